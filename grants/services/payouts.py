"""What Stripe tells us about payouts — transfers and connected accounts — for any disbursement
(an installment's or a stipend payment's), and the sweep that settles what Stripe left unsaid.

The webhook handlers here receive the stored ``WebhookEvent`` inside its transaction and return
``(status, note)`` (see ``grants.payments.webhooks``). They lock in the portal's lock order
(``disbursements.lock``) before deciding.
"""

import datetime
import logging

from django.conf import settings
from django.utils.translation import gettext as _

from grants.models import (
    Disbursement,
    DisbursementStatus,
    InstallmentStatus,
    PayeeAccount,
    PayoutStatus,
    VendorPaymentStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments.gateway import (
    PaymentError,
    Transfer,
    payout_status_from_account_object,
    transfer_from_json,
)
from grants.services import bonds, disbursements, payments, stipend_payments, vendor_payments

logger = logging.getLogger(__name__)

PROCESSED, IGNORED, FLAGGED = (
    WebhookEventStatus.PROCESSED,
    WebhookEventStatus.IGNORED,
    WebhookEventStatus.FLAGGED,
)
CONNECT = "connect"
D = DisbursementStatus


# --- Dispatch by what a disbursement pays ----------------------------------------------------


def confirm_paid(disbursement: Disbursement, transfer: Transfer) -> tuple[bool, str]:
    """Stripe made ``transfer`` for the locked ``disbursement``: record it paid (ledger and all).
    Returns (changed, problem): a problem means a person must look (the event is flagged)."""
    if disbursement.installment_id:
        installment = disbursement.installment
        if installment.status == InstallmentStatus.CANCELLED:
            return False, "Stripe paid an installment the portal has as cancelled"
        return payments.record_transfer_paid(disbursement, transfer_id=transfer.id), ""
    if stipend_payments.stipend_payment_of(disbursement) is not None:
        return stipend_payments.record_stipend_transfer_paid(disbursement, transfer_id=transfer.id), ""
    if disbursement.bond_id:
        return bonds.record_transfer_paid(disbursement, transfer_id=transfer.id), ""
    if disbursement.vendor_payment_id:
        if disbursement.vendor_payment.status == VendorPaymentStatus.CANCELLED:
            return False, "Stripe paid a vendor payment the portal has as cancelled"
        return vendor_payments.record_vendor_transfer_paid(disbursement, transfer_id=transfer.id), ""
    return False, "a disbursement that pays neither an installment nor stipends"


def record_reversed(disbursement: Disbursement, transfer: Transfer) -> bool:
    if disbursement.bond_id:
        return bonds.record_transfer_reversed(
            disbursement, transfer_id=transfer.id, amount_reversed=transfer.amount_reversed
        )
    if disbursement.installment_id:
        return payments.record_transfer_reversed(
            disbursement, transfer_id=transfer.id, amount_reversed=transfer.amount_reversed
        )
    if disbursement.vendor_payment_id:
        return vendor_payments.record_vendor_transfer_reversed(
            disbursement, transfer_id=transfer.id, amount_reversed=transfer.amount_reversed
        )
    return stipend_payments.record_stipend_transfer_reversed(
        disbursement, transfer_id=transfer.id, amount_reversed=transfer.amount_reversed
    )


def _confirm(disbursement: Disbursement, transfer: Transfer) -> bool:
    changed, problem = confirm_paid(disbursement, transfer)
    if problem:
        logger.warning("Disbursement %s: %s (%s)", disbursement.pk, problem, transfer.id)
    return changed


# --- Webhook handlers ------------------------------------------------------------------------


def _our_transfer(event: WebhookEvent):
    transfer = transfer_from_json(event.payload["data"]["object"])
    disbursement = payments.find_disbursement(
        event.foundation, disbursement_id=transfer.metadata.get("disbursement"), transfer_id=transfer.id
    )
    if disbursement is None:
        return transfer, None, "unknown transfer"
    mismatch = disbursements.transfer_mismatch(
        disbursement, amount=transfer.amount, destination=transfer.destination, transfer_id=transfer.id
    )
    return transfer, disbursement, mismatch


def on_transfer_created(event: WebhookEvent) -> tuple[str, str]:
    """Stripe made a transfer: confirm the disbursement in any state that is not final (pending,
    sent, unknown — or failed: Stripe's word wins). A second transfer for one disbursement is
    flagged, never booked."""
    transfer, disbursement, problem = _our_transfer(event)
    if disbursement is None or problem:
        return FLAGGED, problem
    changed, problem = confirm_paid(disbursement, transfer)
    if problem:
        return FLAGGED, problem
    return (PROCESSED, "") if changed else (IGNORED, f"disbursement already {disbursement.status}")


def on_transfer_reversed(event: WebhookEvent) -> tuple[str, str]:
    transfer, disbursement, problem = _our_transfer(event)
    if disbursement is None or problem:
        return FLAGGED, problem
    changed = record_reversed(disbursement, transfer)
    return (PROCESSED, "") if changed else (IGNORED, "reversal already recorded")


def on_transfer_updated(event: WebhookEvent) -> tuple[str, str]:
    """A transfer changed (its description, metadata, or a reversal). What the portal tracks is
    whether it exists and how much of it came back: both are applied, idempotently."""
    transfer, disbursement, problem = _our_transfer(event)
    if disbursement is None or problem:
        return FLAGGED, problem
    changed = False
    if disbursement.status in (*disbursements.OPEN_STATES, D.FAILED):
        confirmed, problem = confirm_paid(disbursement, transfer)
        if problem:
            return FLAGGED, problem
        changed = confirmed
    if transfer.amount_reversed.amount > 0:
        changed = record_reversed(disbursement, transfer) or changed
    return (PROCESSED, "") if changed else (IGNORED, "nothing the portal tracks changed")


def on_account_updated(event: WebhookEvent) -> tuple[str, str]:
    obj = event.payload["data"]["object"]
    if event.endpoint != CONNECT or event.account != obj.get("id"):
        # A grantee's account speaks only through the Connect endpoint, about itself.
        return IGNORED, "not an event of this connected account"
    payee = PayeeAccount.objects.filter(foundation=event.foundation, stripe_account_id=event.account).first()
    if payee is None:
        return IGNORED, "unknown account"
    requirements = obj.get("requirements") or {}
    due = list(requirements.get("currently_due") or [])
    due += [item for item in requirements.get("past_due") or [] if item not in due]
    applied = payments.update_payee_status(
        payee,
        status=payout_status_from_account_object(obj),
        requirements_due=due,
        event_created=event.created,
    )
    return (PROCESSED, "") if applied else (IGNORED, "older than the status applied")


# A connected account's "transfers" capability: what it means for paying it.
CAPABILITY_STATUS = {
    "active": None,  # account.updated (which Stripe sends too) says whether payouts are ready
    "pending": PayoutStatus.INFORMATION_NEEDED,
    "inactive": PayoutStatus.INFORMATION_NEEDED,
    "unrequested": PayoutStatus.RESTRICTED,
    "disabled": PayoutStatus.RESTRICTED,
}


def on_capability_updated(event: WebhookEvent) -> tuple[str, str]:
    """The ``transfers`` capability of a grantee's account changed: when Stripe turns it off, the
    payee cannot receive transfers until it is fixed, so releases are refused before Stripe is
    asked. Other capabilities (card payments...) do not concern payouts."""
    obj = event.payload["data"]["object"]
    if event.endpoint != CONNECT or obj.get("account") != event.account:
        return IGNORED, "not an event of this connected account"
    if obj.get("id") != "transfers":
        return IGNORED, f"capability {obj.get('id')} does not concern payouts"
    payee = PayeeAccount.objects.filter(foundation=event.foundation, stripe_account_id=event.account).first()
    if payee is None:
        return IGNORED, "unknown account"
    status = CAPABILITY_STATUS.get(obj.get("status") or "")
    if status is None:
        return IGNORED, f"transfers capability {obj.get('status')}: account.updated decides"
    requirements = obj.get("requirements") or {}
    due = list(requirements.get("currently_due") or []) + list(requirements.get("past_due") or [])
    reason = requirements.get("disabled_reason") or ""
    if reason and not reason.startswith(("requirements.", "action_required.")):
        status = (
            PayoutStatus.RESTRICTED
        )  # Stripe's own reason (rejected, under review...), as in account.updated
    applied = payments.update_payee_status(
        payee, status=status, requirements_due=due or payee.requirements_due, event_created=event.created
    )
    return (PROCESSED, "") if applied else (IGNORED, "older than the status applied")


HANDLERS = {
    "account.updated": on_account_updated,
    "capability.updated": on_capability_updated,
    "transfer.created": on_transfer_created,
    "transfer.updated": on_transfer_updated,
    "transfer.reversed": on_transfer_reversed,
}


# --- The sweep -------------------------------------------------------------------------------


def settle_after() -> datetime.timedelta:
    """How long Stripe gets to answer (or its event to arrive) before the sweep asks it."""
    return datetime.timedelta(seconds=settings.PAYOUT_SETTLE_AFTER_SECONDS)


def settle(disbursement: Disbursement) -> disbursements.Attempt:
    """Find out from Stripe what happened to one disbursement and act on it (see
    ``disbursements.settle``); finance's "Check with Stripe" and the sweep both call this."""
    return disbursements.settle(disbursement, confirm=_confirm)


def settle_open_disbursements(*, older_than: datetime.timedelta | None = None) -> dict[str, int]:
    """The sweep (``manage.py run_daily``, ``manage.py settle_payouts``): settle every disbursement
    Stripe has not settled for ``older_than``. Before any new request, Stripe is asked whether
    the transfer exists. Returns counts by the state each ended in; a Stripe error on one
    disbursement stops no other."""
    counts: dict[str, int] = {}
    rows = disbursements.needs_settling(older_than=settle_after() if older_than is None else older_than)
    for disbursement in rows.select_related("foundation", "payee").iterator():
        try:
            attempt = settle(disbursement)
            state = attempt.disbursement.status
        except PaymentError as error:
            logger.warning("Disbursement %s could not be settled: %s", disbursement.pk, error.kind)
            state = "error"
        counts[state] = counts.get(state, 0) + 1
    return counts


def describe(counts: dict[str, int]) -> str:
    """A line for the sweep's output."""
    if not counts:
        return _("No payment waited for Stripe.")
    return ", ".join(f"{state}: {count}" for state, count in sorted(counts.items()))
