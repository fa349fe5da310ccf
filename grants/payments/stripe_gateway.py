"""The real Stripe, through the official library's ``StripeClient`` (one per foundation's keys)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from django.conf import settings

from grants.money import to_minor_units

from .credentials import StripeCredentials, credentials_for
from .gateway import (
    Charge,
    CheckoutSession,
    ConnectedAccount,
    PaymentError,
    PaymentGateway,
    Refund,
    Transfer,
    TransferReversal,
    account_from_json,
    charge_from_json,
    checkout_session_from_json,
    refund_from_json,
    reversal_from_json,
    transfer_from_json,
)

logger = logging.getLogger(__name__)


def payment_error_from_stripe(exc: stripe.StripeError) -> PaymentError:
    """The ``PaymentError`` for one of the library's exceptions (see ``PaymentError.kind``)."""
    code = getattr(exc, "code", None) or ""
    if isinstance(exc, stripe.CardError):
        kind = "card_declined"
    elif isinstance(exc, stripe.APIConnectionError):
        kind = "network"
    elif isinstance(exc, stripe.RateLimitError):
        kind = "rate_limit"
    elif isinstance(exc, stripe.IdempotencyError):
        kind = "idempotency_conflict"
    elif isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        kind = "authentication"
    elif isinstance(exc, stripe.InvalidRequestError):
        kind = "insufficient_balance" if code == "balance_insufficient" else "invalid_request"
    elif getattr(exc, "http_status", None) == 409:
        # The library raises APIError for 409 (after its own retries): the first request with the
        # key is still running at Stripe, so whether it paid is not known yet.
        kind = "conflict"
    else:
        kind = "api"
    return PaymentError(kind, code=code)


def _plain(obj) -> dict:
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)


class StripeGateway(PaymentGateway):
    """``PaymentGateway`` on Stripe's API, pinned to ``settings.STRIPE_API_VERSION``.

    ``http_client`` replaces the library's HTTP client (tests pass a fake; nothing else should).
    The library retries network failures and 409/5xx answers ``max_network_retries`` times with
    the same idempotency key, which Stripe makes safe.
    """

    def __init__(
        self,
        credentials: StripeCredentials,
        *,
        http_client: stripe.HTTPClient | None = None,
        max_network_retries: int = 2,
    ):
        self.client = stripe.StripeClient(
            credentials.secret_key,
            stripe_version=settings.STRIPE_API_VERSION,
            http_client=http_client,
            max_network_retries=max_network_retries,
        )

    @classmethod
    def for_foundation(cls, foundation) -> "StripeGateway":
        return cls(credentials_for(foundation))

    @contextmanager
    def _calling(self, operation: str):
        try:
            yield
        except stripe.StripeError as exc:
            error = payment_error_from_stripe(exc)
            # Ids and codes only: Stripe's messages can quote what people typed.
            logger.warning(
                "Stripe %s failed: kind=%s code=%s status=%s request_id=%s",
                operation,
                error.kind,
                error.code or "-",
                getattr(exc, "http_status", None),
                getattr(exc, "request_id", None),
            )
            raise error from exc

    @staticmethod
    def _money_params(amount) -> dict:
        return {"amount": to_minor_units(amount), "currency": str(amount.currency).lower()}

    def create_connected_account(self, *, email, country="US", metadata, idempotency_key) -> ConnectedAccount:
        params = {
            "type": "express",
            "country": country,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": dict(metadata),
        }
        if email:  # a volunteer's account is created without one: Stripe asks them for theirs
            params["email"] = email
        with self._calling("create_connected_account"):
            account = self.client.v1.accounts.create(params, {"idempotency_key": idempotency_key})
        return account_from_json(_plain(account))

    def retrieve_account(self, account_id) -> ConnectedAccount:
        with self._calling("retrieve_account"):
            account = self.client.v1.accounts.retrieve(account_id)
        return account_from_json(_plain(account))

    def create_onboarding_link(self, *, account_id, refresh_url, return_url) -> str:
        params = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        with self._calling("create_onboarding_link"):
            link = self.client.v1.account_links.create(params)
        return link.url

    def create_transfer(self, *, amount, destination, transfer_group, metadata, idempotency_key) -> Transfer:
        params = {
            **self._money_params(amount),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": dict(metadata),
        }
        with self._calling("create_transfer"):
            transfer = self.client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        return transfer_from_json(_plain(transfer))

    def reverse_transfer(self, *, transfer_id, amount, metadata, idempotency_key) -> TransferReversal:
        params = {"metadata": dict(metadata)}
        if amount is not None:
            # A reversal has no currency parameter: it is always in the transfer's currency.
            params["amount"] = to_minor_units(amount)
        with self._calling("reverse_transfer"):
            reversal = self.client.v1.transfers.reversals.create(
                transfer_id, params, {"idempotency_key": idempotency_key}
            )
        return reversal_from_json(_plain(reversal))

    def list_transfers(
        self, *, created_from=None, created_to=None, transfer_group=None
    ) -> Iterator[Transfer]:
        params: dict = {"limit": 100}
        created = {}
        if created_from is not None:
            created["gte"] = int(created_from.timestamp())
        if created_to is not None:
            created["lt"] = int(created_to.timestamp())
        if created:
            params["created"] = created
        if transfer_group:
            params["transfer_group"] = transfer_group
        with self._calling("list_transfers"):
            page = self.client.v1.transfers.list(params)
            for transfer in page.auto_paging_iter():
                yield transfer_from_json(_plain(transfer))

    def create_checkout_session(
        self,
        *,
        mode,
        amount,
        product_name,
        success_url,
        cancel_url,
        customer_email,
        metadata,
        idempotency_key,
    ) -> CheckoutSession:
        if mode not in ("payment", "subscription"):
            raise ValueError('mode must be "payment" or "subscription"')
        money = self._money_params(amount)
        price_data = {
            "currency": money["currency"],
            "product_data": {"name": product_name},
            "unit_amount": money["amount"],
        }
        if mode == "subscription":
            price_data["recurring"] = {"interval": "month"}
        params = {
            "mode": mode,
            "line_items": [{"price_data": price_data, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "customer_email": customer_email,
            "metadata": dict(metadata),
            # Later events (refunds, renewals, disputes) carry the payment intent or subscription,
            # not the session: they need the metadata too.
            ("payment_intent_data" if mode == "payment" else "subscription_data"): {
                "metadata": dict(metadata)
            },
        }
        with self._calling("create_checkout_session"):
            session = self.client.v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})
        return checkout_session_from_json(_plain(session))

    def create_refund(self, *, payment_intent, amount, metadata, idempotency_key) -> Refund:
        params = {"payment_intent": payment_intent, "metadata": dict(metadata)}
        if amount is not None:
            params["amount"] = to_minor_units(amount)
        with self._calling("create_refund"):
            refund = self.client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        return refund_from_json(_plain(refund))

    def retrieve_charge(self, *, payment_intent=None, invoice=None) -> Charge:
        with self._calling("retrieve_charge"):
            if invoice and not payment_intent:
                payments = self.client.v1.invoice_payments.list({"invoice": invoice, "status": "paid"})
                payment_intent = next(
                    (p.payment.payment_intent for p in payments.data if p.payment.type == "payment_intent"),
                    None,
                )
                if payment_intent is None:
                    # Paid from the customer's credit balance or outside Stripe: no charge exists.
                    raise PaymentError("invalid_request", code="no_payment_intent")
            intent = self.client.v1.payment_intents.retrieve(
                payment_intent, {"expand": ["latest_charge.balance_transaction"]}
            )
        charge = _plain(intent.latest_charge)
        txn = charge.get("balance_transaction")
        return charge_from_json(charge, txn if isinstance(txn, dict) else None)

    def cancel_subscription(self, *, subscription_id) -> None:
        with self._calling("cancel_subscription"):
            try:
                self.client.v1.subscriptions.cancel(subscription_id)
            except stripe.InvalidRequestError:
                # Stripe refuses to cancel twice; for us a cancelled subscription is the goal.
                if self.client.v1.subscriptions.retrieve(subscription_id).status != "canceled":
                    raise
