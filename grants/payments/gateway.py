"""The one interface the portal uses to talk to Stripe.

Services call a ``PaymentGateway`` and never the ``stripe`` library directly. Two
implementations exist: ``StripeGateway`` (the real API, with the foundation's keys) and
``SimulatedGateway`` (no network; the demo and the tests), chosen by ``settings.STRIPE_GATEWAY``.

Contract shared by every implementation:

- Amounts are ``Money`` in and out; minor units are computed only by ``grants.money``.
- Every call that moves money takes the caller's idempotency key, derived from our own row
  (``disbursement:<id>``): repeating the call with the same key and the same parameters returns
  the first answer and moves nothing more; the same key with other parameters is refused with
  ``PaymentError(kind="idempotency_conflict")``.
- Failures are raised as ``PaymentError`` with a ``kind`` and whether retrying (with the same
  key) can help; its ``message`` is translated and safe to show to the person who acted.
"""

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from djmoney.money import Money

from grants.money import from_minor_units
from grants.services.errors import DomainError

# --- Results ---------------------------------------------------------------------------------

PAYOUT_READY = "ready"
PAYOUT_INFORMATION_NEEDED = "information_needed"
PAYOUT_RESTRICTED = "restricted"


def _payout_status(*, payouts_enabled, details_submitted, currently_due, past_due, disabled_reason) -> str:
    # Stripe sets disabled_reason "requirements.past_due" on every new account, before the grantee
    # has even started: that is information still needed, not a restriction. Only a reason of
    # Stripe's own (rejected, under review, paused, listed...) restricts regardless.
    if disabled_reason and not disabled_reason.startswith(("requirements.", "action_required.")):
        return PAYOUT_RESTRICTED
    if payouts_enabled and not currently_due and not past_due:
        return PAYOUT_READY
    if details_submitted and not payouts_enabled and (past_due or disabled_reason):
        return PAYOUT_RESTRICTED
    return PAYOUT_INFORMATION_NEEDED


@dataclass(frozen=True)
class ConnectedAccount:
    """A grantee's Stripe Express account, as far as paying it is concerned.

    ``requirements_due`` lists what Stripe still needs (currently due and past due).
    """

    id: str
    email: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: tuple[str, ...] = ()
    disabled_reason: str = ""

    @property
    def payout_status(self) -> str:
        """ "ready", "restricted" or "information_needed" (see ``payout_status_from_account_object``).

        Without Stripe's split between currently and past due, anything still due after the
        details were submitted counts as past due: the grantee cannot be paid until it is fixed.
        """
        return _payout_status(
            payouts_enabled=self.payouts_enabled,
            details_submitted=self.details_submitted,
            currently_due=self.requirements_due,
            past_due=self.requirements_due,
            disabled_reason=self.disabled_reason,
        )


def payout_status_from_account_object(obj: Mapping) -> str:
    """Payout status from a raw Stripe account JSON (as in an ``account.updated`` event).

    "ready": payouts enabled and nothing currently or past due. "restricted": Stripe disabled the
    account for a reason of its own (``requirements.disabled_reason`` such as "rejected.fraud" or
    "under_review"), or payouts are off although the details were submitted and something is past
    due (or a requirements reason is set). Otherwise "information_needed": the grantee has to go
    back to onboarding — including a new account, which Stripe marks "requirements.past_due".
    """
    requirements = obj.get("requirements") or {}
    return _payout_status(
        payouts_enabled=bool(obj.get("payouts_enabled")),
        details_submitted=bool(obj.get("details_submitted")),
        currently_due=tuple(requirements.get("currently_due") or ()),
        past_due=tuple(requirements.get("past_due") or ()),
        disabled_reason=requirements.get("disabled_reason") or "",
    )


@dataclass(frozen=True)
class Transfer:
    """Money sent from the foundation's Stripe balance to a connected account."""

    id: str
    amount: Money
    amount_reversed: Money
    destination: str
    transfer_group: str
    reversed: bool
    metadata: dict = field(default_factory=dict)
    created: datetime | None = None


@dataclass(frozen=True)
class TransferReversal:
    """Money taken back from a connected account (all or part of one transfer)."""

    id: str
    transfer_id: str
    amount: Money


@dataclass(frozen=True)
class CheckoutSession:
    """A Stripe Checkout page for a donation; the donor pays at ``url``."""

    id: str
    url: str
    mode: str
    status: str
    amount_total: Money | None
    metadata: dict = field(default_factory=dict)
    payment_intent: str = ""
    subscription: str = ""
    customer_email: str = ""


@dataclass(frozen=True)
class Refund:
    """Money given back to a donor from one payment."""

    id: str
    payment_intent: str
    amount: Money
    status: str


@dataclass(frozen=True)
class Charge:
    """A successful payment with what Stripe kept: ``net = amount - fee``.

    ``fee`` and ``net`` are ``None`` while Stripe has not settled the balance transaction. They
    are in the settlement currency, which may differ from ``amount``'s; ``exchange_rate`` is then
    the balance transaction's rate (settlement amount = charge amount × rate).
    """

    id: str
    payment_intent: str
    amount: Money
    amount_refunded: Money
    fee: Money | None
    net: Money | None
    exchange_rate: Decimal | None = None


# --- Stripe JSON → results (shared by both gateways) ------------------------------------------


def account_from_json(obj: Mapping) -> ConnectedAccount:
    requirements = obj.get("requirements") or {}
    due = list(requirements.get("currently_due") or [])
    due += [item for item in requirements.get("past_due") or [] if item not in due]
    return ConnectedAccount(
        id=obj["id"],
        email=obj.get("email") or "",
        charges_enabled=bool(obj.get("charges_enabled")),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        details_submitted=bool(obj.get("details_submitted")),
        requirements_due=tuple(due),
        disabled_reason=requirements.get("disabled_reason") or "",
    )


def transfer_from_json(obj: Mapping) -> Transfer:
    return Transfer(
        id=obj["id"],
        amount=from_minor_units(obj["amount"], obj["currency"]),
        amount_reversed=from_minor_units(obj.get("amount_reversed") or 0, obj["currency"]),
        destination=obj.get("destination") or "",
        transfer_group=obj.get("transfer_group") or "",
        reversed=bool(obj.get("reversed")),
        metadata=dict(obj.get("metadata") or {}),
        created=datetime.fromtimestamp(obj["created"], tz=UTC),
    )


def checkout_session_from_json(obj: Mapping) -> CheckoutSession:
    total = obj.get("amount_total")
    return CheckoutSession(
        id=obj["id"],
        url=obj.get("url") or "",
        mode=obj["mode"],
        status=obj.get("status") or "",
        amount_total=None if total is None else from_minor_units(total, obj["currency"]),
        metadata=dict(obj.get("metadata") or {}),
        payment_intent=obj.get("payment_intent") or "",
        subscription=obj.get("subscription") or "",
        customer_email=obj.get("customer_email") or "",
    )


def charge_from_json(obj: dict, txn: Mapping | None) -> Charge:
    currency = obj["currency"]
    return Charge(
        id=obj["id"],
        payment_intent=obj.get("payment_intent") or "",
        amount=from_minor_units(obj["amount"], currency),
        amount_refunded=from_minor_units(obj.get("amount_refunded") or 0, currency),
        fee=from_minor_units(txn["fee"], txn["currency"]) if txn else None,
        net=from_minor_units(txn["net"], txn["currency"]) if txn else None,
        exchange_rate=Decimal(str(txn["exchange_rate"])) if txn and txn.get("exchange_rate") else None,
    )


def reversal_from_json(obj: Mapping) -> TransferReversal:
    return TransferReversal(
        id=obj["id"],
        transfer_id=obj["transfer"],
        amount=from_minor_units(obj["amount"], obj["currency"]),
    )


def refund_from_json(obj: Mapping) -> Refund:
    return Refund(
        id=obj["id"],
        payment_intent=obj.get("payment_intent") or "",
        amount=from_minor_units(obj["amount"], obj["currency"]),
        status=obj.get("status") or "",
    )


# --- Errors ----------------------------------------------------------------------------------

PAYMENT_ERROR_KINDS = {
    # kind: whether repeating the same call (same idempotency key) may succeed.
    "card_declined": False,
    "network": True,
    "rate_limit": True,
    "insufficient_balance": False,
    "invalid_request": False,
    "idempotency_conflict": False,
    "authentication": False,
    "api": True,
    # 409: another request with the same idempotency key is still being processed by Stripe.
    "conflict": True,
}

# Kinds that do not say whether Stripe did the work: a timeout or dropped connection (the request
# may have been executed), a 5xx (Stripe may have executed it before failing, and replays the 5xx
# to the same key for 24 hours), a 409 (the first request with the key is still running), a 429
# or a key already used with other parameters (an earlier request with the key may have done it).
# After one of these the caller must not use a new key until Stripe (a lookup or an event) says
# what happened: see ``grants.services.disbursements``.
OUTCOME_UNKNOWN_KINDS = frozenset({"network", "api", "conflict", "rate_limit", "idempotency_conflict"})


def _message_for(kind: str) -> str:
    # Built at raise time so the message is in the language of the person who acted.
    messages = {
        "card_declined": gettext("Your card was declined. Nothing was charged; try another card."),
        # Not "nothing was paid": after a timeout Stripe may have done the work. Services that
        # move money say what happens next in their own words.
        "network": gettext("The payment processor did not answer in time; try again in a moment."),
        "rate_limit": gettext("The payment processor is busy. Nothing was paid; try again in a minute."),
        "insufficient_balance": gettext(
            "The foundation's Stripe balance is too low for this payment. Nothing was paid; "
            "add funds to the balance and try again."
        ),
        "invalid_request": gettext(
            "The payment processor refused the request. Nothing was paid; ask the foundation's staff "
            "to check the payment details."
        ),
        "idempotency_conflict": gettext(
            "This payment was already requested with different details. Nothing more was paid; "
            "check the payment's history."
        ),
        "authentication": gettext(
            "The portal's payment settings are not valid. Nothing was paid; an administrator must "
            "check the Stripe keys."
        ),
        "api": gettext("The payment processor had a problem; try again in a moment."),
        "conflict": gettext("The payment processor is still working on this request; try again in a moment."),
    }
    return messages[kind]


class PaymentError(DomainError):
    """Stripe (or the simulator) refused or could not complete a call.

    ``kind`` is one of ``PAYMENT_ERROR_KINDS``; ``retryable`` says whether repeating the same
    call with the same idempotency key may succeed (network, rate limit, Stripe's 5xx).
    ``code`` is Stripe's error code when there is one (for logs and support, never personal data).
    """

    def __init__(self, kind: str, message: str | None = None, *, code: str = ""):
        if kind not in PAYMENT_ERROR_KINDS:
            raise ValueError(f"unknown payment error kind {kind!r}")
        super().__init__(message or _message_for(kind))
        self.kind = kind
        self.retryable = PAYMENT_ERROR_KINDS[kind]
        self.code = code

    @property
    def outcome_unknown(self) -> bool:
        """Whether Stripe may have done the work although the call failed (see
        ``OUTCOME_UNKNOWN_KINDS``): only a definite refusal allows a new idempotency key."""
        return self.kind in OUTCOME_UNKNOWN_KINDS

    def __repr__(self):
        return f"PaymentError(kind={self.kind!r}, code={self.code!r})"


# --- Interface -------------------------------------------------------------------------------


class PaymentGateway(abc.ABC):
    """Everything the portal asks of Stripe, for one foundation.

    Implementations are built with ``for_foundation(foundation)``; ``get_gateway`` picks one.
    Methods never touch the portal's own tables: recording what happened (disbursements,
    donations, the ledger) is the caller's job, confirmed later by webhooks.
    """

    @classmethod
    @abc.abstractmethod
    def for_foundation(cls, foundation) -> "PaymentGateway":
        """The gateway acting on behalf of ``foundation`` (its Stripe platform account)."""

    @abc.abstractmethod
    def create_connected_account(
        self, *, email: str, country: str = "US", metadata: Mapping, idempotency_key: str
    ) -> ConnectedAccount:
        """Create an Express connected account with the ``transfers`` capability requested.

        ``email`` may be empty (a hotline volunteer's account: Stripe collects their own).

        Moves no money. The grantee completes it on Stripe's onboarding page
        (``create_onboarding_link``); ``account.updated`` webhooks report progress.
        """

    @abc.abstractmethod
    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        """The account's current state. Moves no money."""

    @abc.abstractmethod
    def create_onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        """A short-lived URL of Stripe's hosted onboarding for the account. Moves no money.

        Stripe sends the grantee to ``return_url`` when they leave the flow (which does not mean
        the account is complete) and to ``refresh_url`` when the link has expired.
        """

    @abc.abstractmethod
    def create_transfer(
        self, *, amount: Money, destination: str, transfer_group: str, metadata: Mapping, idempotency_key: str
    ) -> Transfer:
        """Send ``amount`` from the foundation's balance to the connected account ``destination``.

        Moves money, exactly once per ``idempotency_key``. Emits ``transfer.created``.
        """

    @abc.abstractmethod
    def reverse_transfer(
        self, *, transfer_id: str, amount: Money | None, metadata: Mapping, idempotency_key: str
    ) -> TransferReversal:
        """Take back ``amount`` (``None``: all that is not yet reversed) of a transfer.

        Moves money, exactly once per ``idempotency_key``. Emits ``transfer.reversed``.
        """

    @abc.abstractmethod
    def list_transfers(
        self,
        *,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        transfer_group: str | None = None,
    ) -> Iterator[Transfer]:
        """Every transfer created in ``[created_from, created_to)`` (either bound optional) and, when
        ``transfer_group`` is given, only those of that group; newest first, all pages. Moves no
        money. Settling a payment whose outcome is unknown relies on the group filter."""

    @abc.abstractmethod
    def create_checkout_session(
        self,
        *,
        mode: str,
        amount: Money,
        product_name: str,
        success_url: str,
        cancel_url: str,
        customer_email: str,
        metadata: Mapping,
        idempotency_key: str,
    ) -> CheckoutSession:
        """A hosted Checkout page for one donation: ``mode`` "payment" (once) or "subscription"
        (``amount`` every month).

        Moves no money by itself; the donor pays on the page and ``checkout.session.completed``
        (plus ``customer.subscription.created`` and ``invoice.paid`` for subscriptions) follows.
        ``metadata`` is also put on the payment intent or subscription, so later events
        (refunds, renewals, disputes) can be traced back to our rows.
        """

    @abc.abstractmethod
    def create_refund(
        self, *, payment_intent: str, amount: Money | None, metadata: Mapping, idempotency_key: str
    ) -> Refund:
        """Refund ``amount`` (``None``: all that is left) of a payment to the donor.

        Moves money, exactly once per ``idempotency_key``. Emits ``charge.refunded``.
        """

    @abc.abstractmethod
    def retrieve_charge(self, *, payment_intent: str | None = None, invoice: str | None = None) -> Charge:
        """The successful charge of ``payment_intent`` (or of the payment of a subscription's
        ``invoice``) with Stripe's fee. Moves no money.

        Webhook handlers use it to book a donation's processing fee: events carry no fee, and on
        API versions from 2025-03-31 an ``invoice.paid`` event does not name its payment intent.
        An invoice paid without a payment intent (from the customer's credit balance, outside
        Stripe) raises ``PaymentError("invalid_request", code="no_payment_intent")``.
        """

    @abc.abstractmethod
    def cancel_subscription(self, *, subscription_id: str) -> None:
        """Stop a monthly donation now; no further invoices. Emits ``customer.subscription.deleted``.

        Cancelling an already cancelled subscription is not an error.
        """


GATEWAY_CLASSES = {
    "simulated": "grants.payments.simulator.gateway.SimulatedGateway",
    "stripe": "grants.payments.stripe_gateway.StripeGateway",
}


def get_gateway(foundation) -> PaymentGateway:
    """The gateway configured by ``settings.STRIPE_GATEWAY`` ("simulated" or "stripe") for ``foundation``.

    Raises ``ImproperlyConfigured`` for any other value, or when the foundation's Stripe keys are
    missing in "stripe" mode.
    """
    name = getattr(settings, "STRIPE_GATEWAY", "")
    try:
        dotted_path = GATEWAY_CLASSES[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"STRIPE_GATEWAY must be one of {sorted(GATEWAY_CLASSES)}, not {name!r}."
        ) from None
    # Looked up by dotted path, like Django's backends: the implementations depend on this module,
    # not the other way round.
    return import_string(dotted_path).for_foundation(foundation)
