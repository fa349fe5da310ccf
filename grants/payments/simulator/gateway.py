"""A Stripe that runs inside the portal: for the demo, for tests, never for real money.

``SimulatedGateway`` keeps Stripe-shaped objects in ``SimulatedStripeObject`` rows (one
"platform" per foundation), honours idempotency keys as Stripe does, can be told to fail the
next call, and emits the webhook events Stripe would — full event JSON, signed with the
foundation's simulated webhook secrets and delivered to the portal's webhook endpoints.

What users do on Stripe's side (pay on Checkout, finish onboarding, dispute a charge) is
triggered by the helper methods at the end (``complete_checkout``, ``complete_onboarding``, ...),
which the simulated hosted pages and the tests call.

Unlike real Stripe, the simulator's state lives in the caller's database transaction: if the
caller rolls back, the objects it created here disappear too.
"""

import hashlib
import json
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from grants.money import check_money, currency_exponent, to_minor_units
from grants.payments.credentials import simulated_credentials
from grants.payments.delivery import WebhookDelivery, deliver_after_commit
from grants.payments.gateway import (
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
from grants.payments.signing import sign_payload

from .models import SimulatedIdempotencyKey, SimulatedStripeObject

# Kinds ``fail_next`` can inject: what Stripe can answer to a call that is otherwise valid.
FAILURE_KINDS = ("card_declined", "network", "rate_limit", "insufficient_balance", "api")
# Stripe's test card that is always declined (https://docs.stripe.com/testing#declined-payments).
DECLINED_CARD = "4000000000000002"
ONBOARDING_OUTCOMES = ("complete", "information_needed", "restricted")

# The simulated processing fee: 2.9 % of the amount plus 30 minor units (30 cents), like Stripe's
# US card pricing; currencies without minor units (JPY) pay the percentage only, since 30 yen
# would not be "30 cents" of anything.
FEE_PERCENT = Decimal("2.9")
FEE_FIXED_MINOR_UNITS = 30

_ID_ALPHABET = string.ascii_letters + string.digits


def processing_fee(amount_minor: int, currency: str) -> int:
    """The simulated Stripe fee in minor units: 2.9 % (rounded half up) + 30 (0 for JPY and the like)."""
    fixed = FEE_FIXED_MINOR_UNITS if currency_exponent(currency) > 0 else 0
    percent = (Decimal(amount_minor) * FEE_PERCENT / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(int(percent) + fixed, amount_minor)


def new_id(prefix: str) -> str:
    """A Stripe-looking id: "tr_" + 24 random letters and digits (unguessable, so usable in URLs)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def _now() -> int:
    return int(timezone.now().timestamp())


def _metadata(metadata: Mapping | None) -> dict:
    # Stripe keeps metadata as strings; the simulator does the same so both read alike.
    return {str(key): str(value) for key, value in (metadata or {}).items()}


def _public(obj: dict) -> dict:
    """The object as Stripe shows it: without the simulator's private ``_sim`` notes."""
    return {key: value for key, value in obj.items() if key != "_sim"}


def _normalise_card(number: str) -> str:
    return "".join(ch for ch in str(number) if ch.isdigit())


Deliverer = Callable[[WebhookDelivery], None]


class SimulatedGateway(PaymentGateway):
    """The gateway of the demo and the tests (see the module docstring).

    ``deliver`` receives each signed event (a ``WebhookDelivery``); the default posts it to the
    foundation's webhook endpoint after the current transaction commits. Tests pass a list's
    ``append`` to look at the events instead.
    """

    # Failures consumed by this process. A failure is consumed by deleting its row, but a caller
    # that lets the PaymentError roll back its transaction would resurrect it and fail forever.
    _consumed_failures: ClassVar[set[str]] = set()

    def __init__(self, foundation, deliver: Deliverer | None = None):
        self.foundation = foundation
        self.platform = foundation.slug
        self.deliver = deliver or deliver_after_commit
        self._outbox: list[WebhookDelivery] | None = None

    @classmethod
    def for_foundation(cls, foundation) -> "SimulatedGateway":
        return cls(foundation)

    # --- Failure injection -------------------------------------------------------------------

    @classmethod
    def fail_next(cls, foundation, kind: str, *, operation: str | None = None, count: int = 1) -> None:
        """Make the next ``count`` calls (of ``operation``, a method name; any when ``None``) fail.

        The failing call raises ``PaymentError(kind)``, creates nothing and stores no idempotent
        response, so a retry with the same key goes through.
        """
        if kind not in FAILURE_KINDS:
            raise ValueError(f"kind must be one of {FAILURE_KINDS}")
        for _ in range(count):
            SimulatedStripeObject.objects.create(
                id=new_id("fail_"),
                platform=foundation.slug,
                kind="failure",
                data={"kind": kind, "operation": operation},
            )

    def _maybe_fail(self, operation: str) -> None:
        pending = SimulatedStripeObject.objects.filter(platform=self.platform, kind="failure")
        for failure in pending.order_by("created_at", "id"):
            if failure.id in self._consumed_failures or failure.data.get("operation") not in (
                None,
                operation,
            ):
                continue
            self._consumed_failures.add(failure.id)
            failure.delete()
            raise PaymentError(failure.data["kind"], code="simulated_failure")

    # --- Storage, idempotency and events -----------------------------------------------------

    def _save(self, kind: str, obj: dict) -> dict:
        SimulatedStripeObject.objects.update_or_create(
            id=obj["id"], defaults={"platform": self.platform, "kind": kind, "data": obj}
        )
        return obj

    def _get(self, kind: str, object_id: str, *, for_update: bool = False) -> dict:
        rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind=kind, id=object_id)
        if for_update:
            rows = rows.select_for_update()
        row = rows.first()
        if row is None:
            raise PaymentError("invalid_request", code="resource_missing")
        return row.data

    @contextmanager
    def _operation(self):
        """One call: its changes commit together, then its events go out (none if it failed)."""
        self._outbox = outbox = []
        try:
            with transaction.atomic():
                yield
        finally:
            self._outbox = None
        for delivery in outbox:
            self.deliver(delivery)

    def _idempotent(self, operation: str, method: str, path: str, params: dict, key: str, perform) -> dict:
        """Run ``perform(request)`` once per idempotency key, as Stripe does.

        Same key and same (method, path, params): the stored response, nothing new, no event.
        Same key with anything else: ``idempotency_conflict``. Injected failures are not stored.
        """
        if not key:
            raise ValueError("calls that move money need an idempotency key")
        self._maybe_fail(operation)
        canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"), default=str)
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        with self._operation():
            try:
                with transaction.atomic():
                    record, created = SimulatedIdempotencyKey.objects.get_or_create(
                        platform=self.platform,
                        key=key,
                        defaults={"method": method, "path": path, "fingerprint": fingerprint, "response": {}},
                    )
            except IntegrityError:
                # Another request with the key committed between our read and our insert.
                record = SimulatedIdempotencyKey.objects.get(platform=self.platform, key=key)
                created = False
            if not created:
                if record.fingerprint != fingerprint:
                    raise PaymentError("idempotency_conflict", code="idempotency_key_in_use")
                return record.response
            response = perform({"id": new_id("req_"), "idempotency_key": key})
            record.response = response
            record.save(update_fields=["response"])
            return response

    def _emit(self, event_type: str, obj: dict, *, account: str | None = None, request=None, previous=None):
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": settings.STRIPE_API_VERSION,
            "created": _now(),
            "data": {"object": _public(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": request or {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        if previous:
            event["data"]["previous_attributes"] = previous
        if account:
            # Only Connect events (from a connected account) name the account.
            event["account"] = account
        SimulatedStripeObject.objects.create(id=event["id"], platform=self.platform, kind="event", data=event)
        self._outbox.append(self._signed(event))
        return event

    def _signed(self, event: dict) -> WebhookDelivery:
        credentials = simulated_credentials(self.foundation)
        connect = "account" in event
        secret = credentials.connect_webhook_secret if connect else credentials.webhook_secret
        # Keys sorted: PostgreSQL's jsonb does not keep key order, and a redelivered event must be
        # byte-for-byte the event first sent.
        payload = json.dumps(event, indent=2, sort_keys=True).encode()
        return WebhookDelivery(
            foundation_slug=self.platform,
            event=event,
            payload=payload,
            signature=sign_payload(payload, secret),
            connect=connect,
        )

    def events(self, type: str | None = None) -> list[dict]:
        """Every event emitted for this foundation, oldest first (of one ``type`` if given)."""
        rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind="event").order_by(
            "created_at"
        )
        events = [row.data for row in rows]
        return [event for event in events if type is None or event["type"] == type]

    def redeliver(self, event_id: str) -> WebhookDelivery:
        """Send a stored event again, freshly signed (as Stripe's retries are); returns the delivery."""
        delivery = self._signed(self._get("event", event_id))
        self.deliver(delivery)
        return delivery

    # --- Connected accounts ------------------------------------------------------------------

    def create_connected_account(self, *, email, country="US", metadata, idempotency_key) -> ConnectedAccount:
        params = {
            "type": "express",
            "country": country,
            "email": email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": _metadata(metadata),
        }

        def perform(request):
            due = ["business_profile.url", "external_account", "individual.verification.document"]
            return self._save(
                "account",
                {
                    "id": new_id("acct_"),
                    "object": "account",
                    "type": "express",
                    "country": country,
                    "email": email,
                    "default_currency": "usd",
                    "charges_enabled": False,
                    "payouts_enabled": False,
                    "details_submitted": False,
                    "capabilities": {"transfers": "inactive"},
                    "requirements": {
                        "currently_due": due,
                        "eventually_due": due,
                        "past_due": due,
                        "disabled_reason": "requirements.past_due",
                    },
                    "metadata": params["metadata"],
                    "created": _now(),
                },
            )

        account = self._idempotent(
            "create_connected_account", "POST", "/v1/accounts", params, idempotency_key, perform
        )
        return account_from_json(account)

    def retrieve_account(self, account_id) -> ConnectedAccount:
        self._maybe_fail("retrieve_account")
        return account_from_json(self._get("account", account_id))

    def create_onboarding_link(self, *, account_id, refresh_url, return_url) -> str:
        self._maybe_fail("create_onboarding_link")
        self._get("account", account_id)
        query = urlencode({"return_url": return_url, "refresh_url": refresh_url})
        return f"{reverse('simulated_onboarding', args=[account_id])}?{query}"

    def complete_onboarding(self, account_id: str, outcome: str = "complete") -> ConnectedAccount:
        """The grantee leaves Stripe's onboarding with ``outcome``; emits ``account.updated`` (Connect).

        "complete": payouts enabled, nothing due. "information_needed": the grantee left before
        giving everything. "restricted": details submitted but verification failed (past due).
        """
        if outcome not in ONBOARDING_OUTCOMES:
            raise ValueError(f"outcome must be one of {ONBOARDING_OUTCOMES}")
        self._maybe_fail("complete_onboarding")
        with self._operation():
            account = self._get("account", account_id, for_update=True)
            before = {key: account[key] for key in ("charges_enabled", "payouts_enabled", "requirements")}
            if outcome == "complete":
                due, past_due, reason, enabled, submitted = [], [], None, True, True
            elif outcome == "information_needed":
                due, past_due, reason, enabled, submitted = (
                    ["individual.verification.document"],
                    [],
                    None,
                    False,
                    False,
                )
            else:
                due = past_due = ["individual.verification.document"]
                reason, enabled, submitted = "requirements.past_due", False, True
            account.update(
                charges_enabled=enabled,
                payouts_enabled=enabled,
                details_submitted=submitted,
                capabilities={"transfers": "active" if enabled else "inactive"},
                requirements={
                    "currently_due": due,
                    "eventually_due": due,
                    "past_due": past_due,
                    "disabled_reason": reason,
                },
            )
            self._save("account", account)
            self._emit("account.updated", account, account=account_id, previous=before)
        return account_from_json(account)

    # --- Transfers ---------------------------------------------------------------------------

    def create_transfer(self, *, amount, destination, transfer_group, metadata, idempotency_key) -> Transfer:
        params = {
            "amount": to_minor_units(amount),
            "currency": str(amount.currency).lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": _metadata(metadata),
        }

        def perform(request):
            account = self._get("account", destination)
            if account["capabilities"].get("transfers") != "active":
                raise PaymentError("invalid_request", code="insufficient_capabilities_for_transfer")
            transfer_id = new_id("tr_")
            transfer = self._save(
                "transfer",
                {
                    "id": transfer_id,
                    "object": "transfer",
                    "amount": params["amount"],
                    "amount_reversed": 0,
                    "currency": params["currency"],
                    "created": _now(),
                    "description": None,
                    "destination": destination,
                    "destination_payment": new_id("py_"),
                    "livemode": False,
                    "metadata": params["metadata"],
                    "reversals": {
                        "object": "list",
                        "data": [],
                        "has_more": False,
                        "total_count": 0,
                        "url": f"/v1/transfers/{transfer_id}/reversals",
                    },
                    "reversed": False,
                    "source_transaction": None,
                    "transfer_group": transfer_group,
                },
            )
            self._emit("transfer.created", transfer, request=request)
            return transfer

        transfer = self._idempotent(
            "create_transfer", "POST", "/v1/transfers", params, idempotency_key, perform
        )
        return transfer_from_json(transfer)

    def reverse_transfer(self, *, transfer_id, amount, metadata, idempotency_key) -> TransferReversal:
        params = {"metadata": _metadata(metadata)}
        if amount is not None:
            params.update(amount=to_minor_units(amount), currency=str(amount.currency).lower())

        def perform(request):
            transfer = self._get("transfer", transfer_id, for_update=True)
            remaining = transfer["amount"] - transfer["amount_reversed"]
            value = params.get("amount", remaining)
            if (
                params.get("currency", transfer["currency"]) != transfer["currency"]
                or not 0 < value <= remaining
            ):
                raise PaymentError("invalid_request", code="transfer_reversal_invalid_amount")
            reversal = self._save(
                "transfer_reversal",
                {
                    "id": new_id("trr_"),
                    "object": "transfer_reversal",
                    "amount": value,
                    "currency": transfer["currency"],
                    "created": _now(),
                    "destination_payment_refund": new_id("pyr_"),
                    "metadata": params["metadata"],
                    "transfer": transfer_id,
                },
            )
            previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
            transfer["amount_reversed"] += value
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            transfer["reversals"]["data"].insert(0, reversal)
            transfer["reversals"]["total_count"] += 1
            self._save("transfer", transfer)
            self._emit("transfer.reversed", transfer, request=request, previous=previous)
            return reversal

        path = f"/v1/transfers/{transfer_id}/reversals"
        reversal = self._idempotent("reverse_transfer", "POST", path, params, idempotency_key, perform)
        return reversal_from_json(reversal)

    def list_transfers(
        self, *, created_from=None, created_to=None, transfer_group=None
    ) -> Iterator[Transfer]:
        self._maybe_fail("list_transfers")
        start = created_from.timestamp() if created_from is not None else float("-inf")
        end = created_to.timestamp() if created_to is not None else float("inf")
        rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind="transfer")
        transfers = [
            row.data
            for row in rows
            if start <= row.data["created"] < end
            and (not transfer_group or row.data.get("transfer_group") == transfer_group)
        ]
        transfers.sort(key=lambda transfer: transfer["created"], reverse=True)
        return iter([transfer_from_json(transfer) for transfer in transfers])

    # --- Donations: Checkout, payments, refunds, disputes, subscriptions ---------------------

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
        check_money(amount)
        metadata = _metadata(metadata)
        currency = str(amount.currency).lower()
        price_data = {
            "currency": currency,
            "product_data": {"name": product_name},
            "unit_amount": to_minor_units(amount),
        }
        if mode == "subscription":
            price_data["recurring"] = {"interval": "month"}
        params = {
            "mode": mode,
            "line_items": [{"price_data": price_data, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "customer_email": customer_email,
            "metadata": metadata,
            ("payment_intent_data" if mode == "payment" else "subscription_data"): {"metadata": metadata},
        }

        def perform(request):
            session_id = new_id("cs_test_")
            created = _now()
            return self._save(
                "checkout.session",
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "amount_subtotal": price_data["unit_amount"],
                    "amount_total": price_data["unit_amount"],
                    "cancel_url": cancel_url,
                    "created": created,
                    "currency": currency,
                    "customer": None,
                    "customer_details": None,
                    "customer_email": customer_email,
                    "expires_at": created + 24 * 3600,
                    "livemode": False,
                    "metadata": metadata,
                    "mode": mode,
                    "payment_intent": None,
                    "payment_status": "unpaid",
                    "status": "open",
                    "subscription": None,
                    "success_url": success_url,
                    "url": reverse("simulated_checkout", args=[session_id]),
                    "_sim": {"product_name": product_name},
                },
            )

        session = self._idempotent(
            "create_checkout_session", "POST", "/v1/checkout/sessions", params, idempotency_key, perform
        )
        return checkout_session_from_json(session)

    def checkout_session(self, session_id: str) -> dict:
        """The stored session with the simulator's notes (product name), for the hosted page."""
        return self._get("checkout.session", session_id)

    def complete_checkout(
        self, session_id: str, *, card_number: str = "4242 4242 4242 4242"
    ) -> CheckoutSession:
        """The donor pays on the Checkout page.

        Emits ``checkout.session.completed``; in subscription mode also
        ``customer.subscription.created`` and ``invoice.paid``. The decline test card
        (4000 0000 0000 0002) raises ``PaymentError("card_declined")`` and records nothing.
        """
        self._maybe_fail("complete_checkout")
        with self._operation():
            session = self._get("checkout.session", session_id, for_update=True)
            if session["status"] != "open":
                raise PaymentError("invalid_request", code="checkout_session_not_open")
            if _normalise_card(card_number) == DECLINED_CARD:
                raise PaymentError("card_declined", code="card_declined")
            customer = self._save(
                "customer",
                {
                    "id": new_id("cus_"),
                    "object": "customer",
                    "email": session["customer_email"],
                    "created": _now(),
                },
            )
            session.update(
                status="complete",
                payment_status="paid",
                customer=customer["id"],
                customer_details={"email": session["customer_email"], "name": None},
            )
            if session["mode"] == "payment":
                payment_intent, _ = self._pay(
                    session["amount_total"], session["currency"], session["metadata"], customer=customer["id"]
                )
                session["payment_intent"] = payment_intent["id"]
                self._save("checkout.session", session)
                self._emit("checkout.session.completed", session)
            else:
                subscription = self._save(
                    "subscription",
                    {
                        "id": new_id("sub_"),
                        "object": "subscription",
                        "created": _now(),
                        "currency": session["currency"],
                        "customer": customer["id"],
                        "metadata": session["metadata"],
                        "status": "active",
                        "canceled_at": None,
                        "ended_at": None,
                        "items": {
                            "object": "list",
                            "data": [
                                {
                                    "id": new_id("si_"),
                                    "object": "subscription_item",
                                    "price": {
                                        "id": new_id("price_"),
                                        "object": "price",
                                        "currency": session["currency"],
                                        "unit_amount": session["amount_total"],
                                        "recurring": {"interval": "month", "interval_count": 1},
                                    },
                                    "quantity": 1,
                                }
                            ],
                        },
                    },
                )
                session["subscription"] = subscription["id"]
                self._save("checkout.session", session)
                self._emit("checkout.session.completed", session)
                self._emit("customer.subscription.created", subscription)
                self._invoice(subscription, billing_reason="subscription_create")
        return checkout_session_from_json(session)

    def renew_subscription(self, subscription_id: str) -> dict:
        """A month has passed: the subscription is charged again; emits ``invoice.paid``. Returns the invoice."""
        self._maybe_fail("renew_subscription")
        with self._operation():
            subscription = self._get("subscription", subscription_id)
            if subscription["status"] != "active":
                raise PaymentError("invalid_request", code="subscription_not_active")
            invoice = self._invoice(subscription, billing_reason="subscription_cycle")
        return invoice

    def cancel_subscription(self, *, subscription_id) -> None:
        self._maybe_fail("cancel_subscription")
        with self._operation():
            subscription = self._get("subscription", subscription_id, for_update=True)
            if subscription["status"] == "canceled":
                return
            subscription.update(status="canceled", canceled_at=_now(), ended_at=_now())
            self._save("subscription", subscription)
            self._emit("customer.subscription.deleted", subscription, previous={"status": "active"})

    def _invoice(self, subscription: dict, *, billing_reason: str) -> dict:
        item = subscription["items"]["data"][0]
        amount, currency = item["price"]["unit_amount"], subscription["currency"]
        # Stripe does not copy a subscription's metadata onto its invoices' payments.
        payment_intent, _ = self._pay(amount, currency, {}, customer=subscription["customer"])
        invoice_id = new_id("in_")
        customer = self._get("customer", subscription["customer"])
        # The invoice as API version 2025-03-31.basil and later show it: the subscription and its
        # metadata under ``parent.subscription_details``, the payment under ``payments``.
        invoice = self._save(
            "invoice",
            {
                "id": invoice_id,
                "object": "invoice",
                "amount_due": amount,
                "amount_paid": amount,
                "amount_remaining": 0,
                "billing_reason": billing_reason,
                "created": _now(),
                "currency": currency,
                "customer": subscription["customer"],
                "customer_email": customer["email"],
                "lines": {
                    "object": "list",
                    "data": [
                        {
                            "id": new_id("il_"),
                            "object": "line_item",
                            "amount": amount,
                            "currency": currency,
                            "metadata": subscription["metadata"],
                            "parent": {
                                "type": "subscription_item_details",
                                "subscription_item_details": {
                                    "subscription": subscription["id"],
                                    "subscription_item": item["id"],
                                },
                            },
                        }
                    ],
                },
                "parent": {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {
                        "metadata": subscription["metadata"],
                        "subscription": subscription["id"],
                    },
                },
                "payments": {
                    "object": "list",
                    "data": [
                        {
                            "id": new_id("inpay_"),
                            "object": "invoice_payment",
                            "amount_paid": amount,
                            "currency": currency,
                            "invoice": invoice_id,
                            "is_default": True,
                            "payment": {"type": "payment_intent", "payment_intent": payment_intent["id"]},
                            "status": "paid",
                        }
                    ],
                },
                "status": "paid",
                "status_transitions": {"paid_at": _now()},
            },
        )
        self._emit("invoice.paid", invoice)
        return invoice

    def _pay(self, amount: int, currency: str, metadata: dict, *, customer: str) -> tuple[dict, dict]:
        """A successful card payment: payment intent, charge and its balance transaction with the fee."""
        payment_intent_id, charge_id, txn_id = new_id("pi_"), new_id("ch_"), new_id("txn_")
        fee = processing_fee(amount, currency)
        self._save(
            "balance_transaction",
            {
                "id": txn_id,
                "object": "balance_transaction",
                "amount": amount,
                "currency": currency,
                "fee": fee,
                "fee_details": [{"amount": fee, "currency": currency, "type": "stripe_fee"}],
                "net": amount - fee,
                "source": charge_id,
                "status": "available",
                "type": "charge",
                "created": _now(),
            },
        )
        charge = self._save(
            "charge",
            {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "balance_transaction": txn_id,
                "captured": True,
                "created": _now(),
                "currency": currency,
                "customer": customer,
                "disputed": False,
                "metadata": metadata,
                "paid": True,
                "payment_intent": payment_intent_id,
                "refunded": False,
                "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0},
                "status": "succeeded",
            },
        )
        payment_intent = self._save(
            "payment_intent",
            {
                "id": payment_intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": currency,
                "customer": customer,
                "latest_charge": charge_id,
                "metadata": metadata,
                "status": "succeeded",
                "created": _now(),
            },
        )
        return payment_intent, charge

    def retrieve_charge(self, *, payment_intent=None, invoice=None) -> Charge:
        self._maybe_fail("retrieve_charge")
        if invoice and not payment_intent:
            payment_intent = self._get("invoice", invoice)["payments"]["data"][0]["payment"]["payment_intent"]
        charge = self._get("charge", self._get("payment_intent", payment_intent)["latest_charge"])
        txn = self._get("balance_transaction", charge["balance_transaction"])
        return charge_from_json(charge, txn)

    def create_refund(self, *, payment_intent, amount, metadata, idempotency_key) -> Refund:
        params = {"payment_intent": payment_intent, "metadata": _metadata(metadata)}
        if amount is not None:
            params.update(amount=to_minor_units(amount), currency=str(amount.currency).lower())

        def perform(request):
            charge_id = self._get("payment_intent", payment_intent)["latest_charge"]
            charge = self._get("charge", charge_id, for_update=True)
            remaining = charge["amount"] - charge["amount_refunded"]
            value = params.get("amount", remaining)
            if params.get("currency", charge["currency"]) != charge["currency"] or not 0 < value <= remaining:
                raise PaymentError("invalid_request", code="amount_too_large")
            refund = self._save(
                "refund",
                {
                    "id": new_id("re_"),
                    "object": "refund",
                    "amount": value,
                    "charge": charge_id,
                    "created": _now(),
                    "currency": charge["currency"],
                    "metadata": params["metadata"],
                    "payment_intent": payment_intent,
                    "status": "succeeded",
                },
            )
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += value
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            charge["refunds"]["data"].insert(0, refund)
            charge["refunds"]["total_count"] += 1
            self._save("charge", charge)
            self._emit("charge.refunded", charge, request=request, previous=previous)
            return refund

        refund = self._idempotent("create_refund", "POST", "/v1/refunds", params, idempotency_key, perform)
        return refund_from_json(refund)

    def open_dispute(self, charge_id: str) -> dict:
        """The donor's bank disputes the charge; emits ``charge.dispute.created``. Returns the dispute."""
        self._maybe_fail("open_dispute")
        with self._operation():
            charge = self._get("charge", charge_id, for_update=True)
            if charge["disputed"]:
                raise PaymentError("invalid_request", code="charge_already_disputed")
            dispute = self._save(
                "dispute",
                {
                    "id": new_id("du_"),
                    "object": "dispute",
                    "amount": charge["amount"],
                    "charge": charge_id,
                    "created": _now(),
                    "currency": charge["currency"],
                    "metadata": {},
                    "payment_intent": charge["payment_intent"],
                    "reason": "fraudulent",
                    "status": "needs_response",
                },
            )
            charge["disputed"] = True
            self._save("charge", charge)
            self._emit("charge.dispute.created", dispute)
        return dispute

    def close_dispute(self, charge_id: str, status: str = "won") -> dict:
        """The bank decides the charge's dispute ("won" or "lost"); emits ``charge.dispute.closed``."""
        if status not in ("won", "lost"):
            raise ValueError('status must be "won" or "lost"')
        self._maybe_fail("close_dispute")
        with self._operation():
            rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind="dispute")
            dispute = next((row.data for row in rows if row.data["charge"] == charge_id), None)
            if dispute is None or dispute["status"] in ("won", "lost"):
                raise PaymentError("invalid_request", code="no_open_dispute")
            previous = {"status": dispute["status"]}
            dispute["status"] = status
            self._save("dispute", dispute)
            self._emit("charge.dispute.closed", dispute, previous=previous)
        return dispute
