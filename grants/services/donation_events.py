"""What Stripe's events say about gifts: the webhook handlers of ``DONATION_HANDLERS``.

Each handler takes the stored ``WebhookEvent`` (inside the webhook's transaction, its row
locked) and returns ``(status, note)``: "processed", "ignored" with the reason, "flagged" for a
person, or "waiting" when the event speaks of something the portal does not know yet (a refund
or a dispute before the payment it belongs to was recorded); ``grants.payments.webhooks`` applies
a waiting event again once another event of the foundation was processed, and flags it when it
has waited too long. Every ledger entry carries an idempotency key derived from the donation and
Stripe's object, so an event applied again (a replay, a re-apply by finance) never books twice.

Payments. ``checkout.session.completed`` with ``payment_status`` "paid" books a one-time gift (or
the first month of a monthly gift, when the session names its invoice); "unpaid" means a bank
debit or another delayed method has started: nothing is booked and no receipt is sent until
``checkout.session.async_payment_succeeded`` (booked, receipted) or ``..._failed`` (the donation
is "payment failed" with the reason). ``checkout.session.expired``: the pending donation is "not
completed" (its pending monthly gift cancelled).

Currencies. The ledger is in the fund's currency. When Stripe settles in another currency (a
EUR fund on a USD account) or charges the donor in theirs (Adaptive Pricing), the fee comes in
the settlement currency: it is converted with the balance transaction's ``exchange_rate``
(settlement = charge × rate), then from the charge's currency to the fund's by the ratio of the
gift to the charge, and rounded once, half up, to the fund currency's minor unit; the fund nets
the gift minus that fee, so the entry balances exactly. What Stripe really settled (fee, net,
rate, the charged amount) is kept on the donation and named in the entry's memo. Refunds and
disputes in the charge's currency are converted by the same ratio (a full refund is exactly the
gift).

Disputes. An inquiry (``warning_needs_response`` ...) takes no money: it is only recorded. The
money leaves the fund when Stripe withdraws it (a dispute created as ``needs_response`` /
``under_review``, or ``charge.dispute.funds_withdrawn``) and comes back when it is reinstated
(``charge.dispute.funds_reinstated`` or closed "won"); "lost" changes nothing more. Whichever of
these events arrive, in whichever order, the withdrawal and the reinstatement are booked at most
once each (their idempotency keys).

Monthly gifts. ``invoice.paid`` books each month; an invoice that charged nothing (credit
balance, ``amount_paid`` 0) or was paid outside Stripe is ignored with the reason.
``invoice.payment_failed`` and ``customer.subscription.updated`` (past_due, unpaid, active) set
the gift's status; the donor is emailed in their language when a payment is overdue and when the
gift is paused. ``customer.subscription.deleted`` cancels the gift.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Donation,
    DonationStatus,
    EntryCause,
    GiftKind,
    JournalEntry,
    RecurringGift,
    RecurringGiftStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.money import from_minor_units, minor_unit, zero
from grants.payments.gateway import Charge, PaymentError, get_gateway
from grants.services import ledger, receipts
from grants.services.donations import (
    DONATION_TRANSITIONS,
    LIVE_GIFT_STATES,
    invalidate_progress,
    manage_link,
    mark_gift_cancelled,
    move_donation,
)
from grants.services.notifications import send_templated_email
from grants.services.workflow import record

PROCESSED, IGNORED, FLAGGED, WAITING = (
    WebhookEventStatus.PROCESSED,
    WebhookEventStatus.IGNORED,
    WebhookEventStatus.FLAGGED,
    WebhookEventStatus.WAITING,
)
D = DonationStatus
G = RecurringGiftStatus
# Dispute statuses in which Stripe has taken the money from the balance (an inquiry's
# "warning_*" statuses take none).
FUNDS_WITHDRAWN = ("needs_response", "under_review", "won", "lost")
INQUIRY = ("warning_needs_response", "warning_under_review", "warning_closed")
# A gift that is running: the statuses a subscription's own life moves between.
LIVE_GIFT = LIVE_GIFT_STATES
SUBSCRIPTION_STATUS = {"active": G.ACTIVE, "past_due": G.PAST_DUE, "unpaid": G.UNPAID}


class NotConvertible(ValueError):
    """An amount in a currency that cannot be brought to the fund's (no rate, no known charge)."""


def _obj(event: WebhookEvent) -> dict:
    return event.payload["data"]["object"]


def _locked(foundation, **filters) -> Donation | None:
    return Donation.objects.select_for_update().filter(foundation=foundation, **filters).first()


def _by_metadata(foundation, metadata: dict) -> Donation | None:
    donation_id = str((metadata or {}).get("donation") or "")
    return _locked(foundation, pk=int(donation_id)) if donation_id.isdigit() else None


def _locked_gift(pk) -> RecurringGift:
    return RecurringGift.objects.select_for_update().get(pk=pk)


# --- Amounts across currencies ---------------------------------------------------------------


def _round(value: Decimal, currency: str) -> Money:
    return Money(value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP), currency)


def to_fund_currency(donation: Donation, amount: Money) -> Money:
    """``amount`` (in the fund's currency or the charge's) in the fund's currency.

    An amount in the charge's currency is the same share of the gift as of the charge (so the
    whole charge is exactly the gift). Raises ``NotConvertible`` for any other currency.
    """
    currency = donation.fund.currency
    if str(amount.currency) == currency:
        return amount
    charged = donation.charge_amount
    if charged is None or str(charged.currency) != str(amount.currency) or not charged.amount:
        raise NotConvertible(f"{amount} is not in {currency} nor in the currency of the charge")
    if amount == charged:
        return donation.gross
    return _round(donation.gross.amount * amount.amount / charged.amount, currency)


def fee_in_fund_currency(donation: Donation, charge: Charge) -> Money:
    """Stripe's fee for ``charge`` in the fund's currency (see the module docstring).

    ``charge.fee`` is in the settlement currency; ``exchange_rate`` turns the charge's currency
    into it. Raises ``NotConvertible`` when the fee is in another currency and no rate says how.
    """
    currency = donation.fund.currency
    if charge.fee is None:
        return zero(currency)
    if str(charge.fee.currency) == currency:
        return charge.fee
    fee = charge.fee.amount
    if str(charge.fee.currency) != str(charge.amount.currency):
        if not charge.exchange_rate:
            raise NotConvertible(f"fee in {charge.fee.currency} without an exchange rate")
        fee = fee / Decimal(str(charge.exchange_rate))
    if str(charge.amount.currency) != currency:
        if not charge.amount.amount:
            raise NotConvertible("charge of no amount")
        fee = fee * donation.gross.amount / charge.amount.amount
    return _round(fee, currency)


def _charge_problem(donation: Donation, amount_minor, currency) -> str:
    """Why a charge Stripe reports cannot be this donation's ("" when it matches)."""
    if not isinstance(amount_minor, int) or not currency:
        return "no amount"
    charged = from_minor_units(amount_minor, currency)
    expected = donation.charge_amount if donation.charge_amount is not None else donation.gross
    if str(charged.currency) == str(expected.currency) and charged != expected:
        return f"amount {charged} != {expected} of donation {donation.pk}"
    if str(charged.currency) != str(expected.currency) and str(charged.currency) != donation.fund.currency:
        return f"charge in {charged.currency}, donation {donation.pk} in {expected.currency}"
    return ""


def _session_problem(donation: Donation, session: dict) -> str:
    """Why a Checkout session's total cannot be this donation's ("" when it matches).

    With Adaptive Pricing the session is in the donor's currency and ``currency_conversion``
    holds the total in ours (``source_currency``).
    """
    total, currency = session.get("amount_total"), session.get("currency")
    conversion = session.get("currency_conversion") or {}
    fund_currency = donation.fund.currency
    if (currency or "").upper() != fund_currency and (
        conversion.get("source_currency") or ""
    ).upper() == fund_currency:
        total, currency = conversion.get("amount_total"), conversion["source_currency"]
    if not isinstance(total, int) or not currency:
        return "no amount"
    paid = from_minor_units(total, currency)
    if paid != donation.gross:
        return f"amount {paid} != {donation.gross} of donation {donation.pk}"
    return ""


# --- Payments --------------------------------------------------------------------------------


def _record_received(donation: Donation, *, charge: Charge, invoice_id: str = "") -> tuple[str, str]:
    """The payment arrived: the donation is received, the ledger books it, the receipt goes out."""
    fund = ledger.lock_fund(donation.fund)
    currency = fund.currency
    donation.charge_amount = charge.amount
    try:
        fee = fee_in_fund_currency(donation, charge)
    except NotConvertible as error:
        return FLAGGED, str(error)
    donation.fee = fee
    donation.settlement_fee, donation.settlement_net = charge.fee, charge.net
    donation.exchange_rate = charge.exchange_rate
    donation.payment_intent_id = charge.payment_intent or None
    donation.invoice_id = invoice_id or None
    donation.charge_id = charge.id
    donation.completed_at = timezone.now()
    donation.received_on = timezone.localdate()
    move_donation(donation, "complete", note=charge.id,
                  fields=("fee", "fee_currency", "payment_intent_id", "invoice_id", "charge_id", "completed_at",
                          "received_on", "charge_amount", "charge_currency", "settlement_fee",
                          "settlement_currency", "settlement_net", "settlement_net_currency",
                          "exchange_rate"))  # fmt: skip
    lines = [ledger.debit(fund, AccountKind.PROCESSOR_CASH, donation.gross - fee)]
    if fee.amount:
        lines.append(ledger.debit(fund, AccountKind.FEES, fee))
    lines.append(ledger.credit(fund, AccountKind.DONATIONS, donation.gross))
    memo = _("Donation #%(number)s to %(fund)s") % {"number": donation.pk, "fund": fund.name}
    if charge.net is not None and str(charge.net.currency) != currency:
        memo += " " + _("(settled by Stripe as %(net)s net of a %(fee)s fee, rate %(rate)s)") % {
            "net": charge.net,
            "fee": charge.fee,
            "rate": charge.exchange_rate or "—",
        }
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.DONATION,
        memo=memo[:300],
        lines=lines,
        reference=charge.id,
        donation=donation,
        idempotency_key=f"donation:{donation.pk}:received",
    )
    monthly = {"manage_url": manage_link(donation.donor)} if donation.recurring_gift_id else None
    receipts.issue_receipt(donation, extra_context=monthly)
    invalidate_progress(fund)
    return PROCESSED, ""


def _find_session_donation(event: WebhookEvent) -> tuple[dict, Donation | None, str]:
    session = _obj(event)
    donation = _by_metadata(event.foundation, session.get("metadata")) or _locked(
        event.foundation, checkout_session_id=session.get("id")
    )
    if donation is None:
        return session, None, "unknown donation"
    if donation.checkout_session_id and donation.checkout_session_id != session.get("id"):
        return session, None, f"session {session.get('id')} != {donation.checkout_session_id}"
    return session, donation, ""


def on_checkout_completed(event: WebhookEvent) -> tuple[str, str]:
    """``checkout.session.completed`` and ``checkout.session.async_payment_succeeded``: a paid
    one-time gift is received; a monthly gift becomes active. A session completed "unpaid" (a bank
    debit under way) books nothing and sends no receipt."""
    session, donation, problem = _find_session_donation(event)
    if donation is None:
        return FLAGGED, problem
    problem = _session_problem(donation, session)
    if problem:
        return FLAGGED, problem
    if session.get("payment_status") == "unpaid":
        return _payment_processing(donation, session)
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return IGNORED, f"payment status {session.get('payment_status')}"
    gateway = get_gateway(event.foundation)
    if session.get("mode") == "subscription":
        if donation.recurring_gift_id is None:
            return FLAGGED, f"donation {donation.pk} is not monthly"
        gift = _locked_gift(donation.recurring_gift_id)
        activated = _activate(gift, session.get("subscription") or "")
        invoice_id = session.get("invoice") or ""
        if donation.status == D.PENDING and invoice_id:
            return _record_received(
                donation, charge=gateway.retrieve_charge(invoice=invoice_id), invoice_id=invoice_id
            )
        return (
            (PROCESSED, "first payment comes with its invoice") if activated else (IGNORED, "already active")
        )
    if donation.status != D.PENDING:
        return IGNORED, f"donation already {donation.status}"
    return _record_received(
        donation, charge=gateway.retrieve_charge(payment_intent=session.get("payment_intent"))
    )


def _payment_processing(donation: Donation, session: dict) -> tuple[str, str]:
    """Checkout finished but the money has not arrived (a bank debit takes days)."""
    if donation.status != D.PENDING:
        return IGNORED, f"donation already {donation.status}"
    intent = session.get("payment_intent") or ""
    if intent and not donation.payment_intent_id:
        donation.payment_intent_id = intent
        donation.save(update_fields=["payment_intent_id"])
    record(subject=donation, subject_type="donation", action="payment_processing", actor=None,
           foundation=donation.foundation, from_state=donation.status, to_state=donation.status,
           note=session.get("id") or "")  # fmt: skip
    return PROCESSED, "payment under way (bank debit): booked when Stripe confirms it"


def on_async_payment_failed(event: WebhookEvent) -> tuple[str, str]:
    """``checkout.session.async_payment_failed``: the bank debit failed; nothing was received."""
    session, donation, problem = _find_session_donation(event)
    if donation is None:
        return FLAGGED, problem
    if donation.status != D.PENDING:
        return IGNORED, f"donation already {donation.status}"
    donation.failure_reason = "the delayed payment (bank debit) failed at Stripe"
    move_donation(donation, "fail", note=session.get("id") or "", fields=("failure_reason",))
    if donation.recurring_gift_id:
        mark_gift_cancelled(_locked_gift(donation.recurring_gift_id), note="first payment failed")
    return PROCESSED, ""


def on_checkout_expired(event: WebhookEvent) -> tuple[str, str]:
    """``checkout.session.expired``: the donor left Checkout; the pending gift is not completed."""
    session, donation, problem = _find_session_donation(event)
    if donation is None:
        return IGNORED, problem  # a session of ours that never became a donation moved nothing
    if donation.status != D.PENDING:
        return IGNORED, f"donation already {donation.status}"
    move_donation(donation, "expire", note=session.get("id") or "")
    if donation.recurring_gift_id:
        gift = _locked_gift(donation.recurring_gift_id)
        if gift.status == G.PENDING:
            mark_gift_cancelled(gift, note="checkout expired")
    return PROCESSED, ""


def _activate(gift: RecurringGift, subscription_id: str) -> bool:
    if gift.status != G.PENDING:
        return False
    gift.stripe_subscription_id = gift.stripe_subscription_id or subscription_id or None
    gift.status = G.ACTIVE
    gift.save(update_fields=["stripe_subscription_id", "status"])
    record(subject=gift, subject_type="recurring_gift", action="activate", actor=None, foundation=gift.foundation,
           from_state=G.PENDING, to_state=gift.status, note=subscription_id)  # fmt: skip
    return True


# --- Monthly gifts ---------------------------------------------------------------------------


def _invoice_payment_intent(invoice: dict) -> str:
    for payment in (invoice.get("payments") or {}).get("data") or []:
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return intent
    return invoice.get("payment_intent") or ""  # API versions before 2025-03-31


def _invoice_subscription(invoice: dict) -> tuple[str, dict]:
    """The invoice's subscription id and its metadata (``parent`` from API 2025-03-31 on)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or invoice.get("subscription") or "", details.get("metadata") or {}


def _gift_by_subscription(foundation, subscription_id: str) -> RecurringGift | None:
    if not subscription_id:
        return None
    return (
        RecurringGift.objects.select_for_update()
        .filter(foundation=foundation, stripe_subscription_id=subscription_id)
        .first()
    )


def on_invoice_paid(event: WebhookEvent) -> tuple[str, str]:
    """``invoice.paid``: a month of a monthly gift was paid; the first month completes the
    Checkout donation, each later month is a new donation (each with its ledger entry and receipt).

    The payment is found through the invoice's payments (API 2025-03-31 and later name no payment
    intent on the invoice). An invoice that charged nothing, or was paid outside Stripe, is ignored.
    """
    invoice = _obj(event)
    subscription_id, metadata = _invoice_subscription(invoice)
    gift = _gift_by_subscription(event.foundation, subscription_id)
    activated = False
    if gift is None:
        # The invoice may arrive before checkout.session.completed: trace it by its metadata.
        first = _by_metadata(event.foundation, metadata)
        if first is None or first.recurring_gift_id is None:
            return FLAGGED, "unknown monthly gift"
        gift = _locked_gift(first.recurring_gift_id)
        if gift.stripe_subscription_id and gift.stripe_subscription_id != subscription_id:
            return FLAGGED, f"subscription {subscription_id} != {gift.stripe_subscription_id}"
        activated = _activate(gift, subscription_id)
    # Activating the gift is a change of its own: the event is then "processed", whatever follows.
    skipped = PROCESSED if activated else IGNORED
    if invoice.get("paid_out_of_band"):
        return skipped, "invoice marked paid outside Stripe: no payment to book"
    if invoice.get("amount_paid") == 0:
        return skipped, "nothing was charged (amount_paid 0: customer credit balance or a discount)"
    payment_intent = _invoice_payment_intent(invoice)
    known = Q(invoice_id=invoice.get("id"))
    if payment_intent:
        known |= Q(payment_intent_id=payment_intent)
    if Donation.objects.filter(known).exists():
        if _set_gift_status(gift, G.ACTIVE, event, note=invoice.get("id") or ""):
            skipped = PROCESSED
        return skipped, "payment already recorded"
    donations = Donation.objects.select_for_update().filter(recurring_gift=gift).order_by("pk")
    first = donations.first()
    if first is None:
        return FLAGGED, "monthly gift without a donation"
    problem = _charge_problem(first, invoice.get("amount_paid"), invoice.get("currency"))
    if problem:
        return FLAGGED, problem
    try:
        charge = get_gateway(event.foundation).retrieve_charge(
            payment_intent=payment_intent or None, invoice=invoice.get("id")
        )
    except PaymentError as error:
        if error.code == "no_payment_intent":
            return skipped, "the invoice's payments include no card or bank payment: nothing to book"
        raise
    if (
        Donation.objects.filter(payment_intent_id=charge.payment_intent)
        .exclude(payment_intent_id__isnull=True)
        .exists()
    ):
        return skipped, "payment already recorded"
    pending = donations.filter(status=D.PENDING, invoice_id__isnull=True).first()
    if pending is not None and invoice.get("billing_reason") != "subscription_cycle":
        donation = pending
    else:
        donation = Donation.objects.create(
            foundation=gift.foundation, fund=gift.fund, donor=gift.donor, recurring_gift=gift,
            kind=GiftKind.MONTHLY, amount=first.amount, cover_fee=first.cover_fee, gross=first.gross,
            anonymous=gift.anonymous,
        )  # fmt: skip
    outcome = _record_received(donation, charge=charge, invoice_id=invoice.get("id") or "")
    if outcome[0] == PROCESSED:
        _set_gift_status(gift, G.ACTIVE, event, note=invoice.get("id") or "")
    return outcome


def _set_gift_status(gift: RecurringGift, status: str, event: WebhookEvent, *, note: str = "") -> bool:
    """Move a running monthly gift to ``status`` unless a newer event already set it; tell the
    donor when a payment is overdue or the gift paused. ``True`` when it changed."""
    if gift.status not in LIVE_GIFT or event.created < gift.status_event_created or gift.status == status:
        return False
    previous = gift.status
    gift.status_event_created = event.created
    gift.status = status
    gift.save(update_fields=["status", "status_event_created"])
    record(subject=gift, subject_type="recurring_gift", action=f"payment_{status}", actor=None,
           foundation=gift.foundation, from_state=previous, to_state=status, note=note[:500])  # fmt: skip
    if status in (G.PAST_DUE, G.UNPAID):
        donor = gift.donor
        send_templated_email(
            "donation_payment_problem",
            to=[donor.email],
            language=donor.language or "en",
            context={
                "gift": gift,
                "fund": gift.fund,
                "foundation": gift.foundation,
                "paused": status == G.UNPAID,
                "manage_url": manage_link(donor),
            },
        )
    return True


def on_invoice_payment_failed(event: WebhookEvent) -> tuple[str, str]:
    """``invoice.payment_failed``: a month of a running gift could not be charged; Stripe retries.

    The gift shows "payment overdue" and the donor is told once (a further failed attempt is only
    recorded). The first payment failing in Checkout is Checkout's business: ignored here.
    """
    invoice = _obj(event)
    subscription_id, _metadata = _invoice_subscription(invoice)
    gift = _gift_by_subscription(event.foundation, subscription_id)
    if gift is None:
        return IGNORED, "not a running monthly gift (a first payment is handled by Checkout)"
    if gift.status not in LIVE_GIFT:
        return IGNORED, f"monthly gift is {gift.status}"
    note = f"{invoice.get('id')} attempt {invoice.get('attempt_count')}"
    if _set_gift_status(gift, G.PAST_DUE if gift.status == G.ACTIVE else gift.status, event, note=note):
        return PROCESSED, ""
    record(subject=gift, subject_type="recurring_gift", action="payment_attempt_failed", actor=None,
           foundation=gift.foundation, from_state=gift.status, to_state=gift.status, note=note)  # fmt: skip
    return PROCESSED, "another failed attempt recorded"


def on_subscription_updated(event: WebhookEvent) -> tuple[str, str]:
    """``customer.subscription.updated``: the subscription's status (past_due, unpaid, active
    again) becomes the monthly gift's; an older event never overrides a newer one."""
    subscription = _obj(event)
    status = subscription.get("status") or ""
    gift = _gift_by_subscription(event.foundation, subscription.get("id") or "")
    if gift is None:
        return IGNORED, "unknown monthly gift (Checkout has not completed it yet)"
    target = SUBSCRIPTION_STATUS.get(status)
    if target is None:
        return IGNORED, f"subscription is {status}"
    if gift.status not in LIVE_GIFT:
        return IGNORED, f"monthly gift is {gift.status}"
    if event.created < gift.status_event_created:
        return IGNORED, "older than the status applied"
    changed = _set_gift_status(gift, target, event, note=subscription.get("id") or "")
    return (PROCESSED, "") if changed else (IGNORED, f"monthly gift already {gift.status}")


def on_subscription_deleted(event: WebhookEvent) -> tuple[str, str]:
    """``customer.subscription.deleted``: the monthly gift is cancelled (no more payments)."""
    subscription = _obj(event)
    gift = _gift_by_subscription(event.foundation, subscription.get("id") or "")
    if gift is None:
        donation = _by_metadata(event.foundation, subscription.get("metadata"))
        if donation is None or donation.recurring_gift_id is None:
            return FLAGGED, "unknown monthly gift"
        gift = _locked_gift(donation.recurring_gift_id)
    if mark_gift_cancelled(gift, note=subscription.get("id") or ""):
        return PROCESSED, ""
    return IGNORED, "already cancelled"


# --- Refunds ---------------------------------------------------------------------------------


def _stripe_id(value) -> str:
    """An id as Stripe sends it (a string, or null); anything else is an unreadable object."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"an id must be a string, not {type(value).__name__}")
    return value


def _by_charge(foundation, obj: dict, charge_id) -> Donation | None:
    payment_intent, charge_id = _stripe_id(obj.get("payment_intent")), _stripe_id(charge_id)
    donation = _locked(foundation, payment_intent_id=payment_intent) if payment_intent else None
    if donation is not None and donation.status == D.PENDING:
        return None  # a bank debit under way: its payment is not recorded yet
    return donation or (_locked(foundation, charge_id=charge_id) if charge_id else None)


NOT_RECORDED_YET = "its payment is not recorded yet"


def on_charge_refunded(event: WebhookEvent) -> tuple[str, str]:
    """``charge.refunded``: book what was refunded since the last event (``amount_refunded`` is a
    total, pending refunds included). Before its payment is recorded, the event waits."""
    charge = _obj(event)
    donation = _by_charge(event.foundation, charge, charge.get("id") or "")
    if donation is None:
        return WAITING, NOT_RECORDED_YET
    problem = _charge_problem(donation, charge.get("amount"), charge.get("currency"))
    if problem:
        return FLAGGED, problem
    try:
        total = to_fund_currency(
            donation, from_minor_units(int(charge.get("amount_refunded") or 0), charge["currency"])
        )
    except NotConvertible as error:
        return FLAGGED, str(error)
    already = donation.amount_refunded or zero(donation.fund.currency)
    if total <= already:
        return IGNORED, "refund already recorded"
    if donation.status not in DONATION_TRANSITIONS["refund"].sources:
        return FLAGGED, f"refund of a donation that is {donation.status}"
    if total > donation.gross:
        return FLAGGED, f"refunded {total} > {donation.gross}"
    fund = ledger.lock_fund(donation.fund)
    refunded = total - already
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.REFUND,
        memo=_("Refund of donation #%(number)s") % {"number": donation.pk},
        lines=[ledger.debit(fund, AccountKind.REFUNDS, refunded), ledger.credit(fund, AccountKind.PROCESSOR_CASH, refunded)],
        reference=charge.get("id") or "",
        donation=donation,
        idempotency_key=f"donation:{donation.pk}:refund:{charge.get('id')}:{charge.get('amount_refunded')}",
    )  # fmt: skip
    donation.amount_refunded = total
    move_donation(donation, "refund" if total == donation.gross else "refund_part", note=str(total),
                  fields=("amount_refunded", "refunded_currency"))  # fmt: skip
    invalidate_progress(fund)
    return PROCESSED, ""


def on_refund_updated(event: WebhookEvent) -> tuple[str, str]:
    """``charge.refund.updated``: a refund that failed or was cancelled gave the money back to the
    foundation's balance; the fund gets it back (once per refund)."""
    refund = _obj(event)
    status = refund.get("status")
    if status not in ("failed", "canceled"):
        return IGNORED, f"refund is {status}"
    donation = _by_charge(event.foundation, refund, refund.get("charge") or "")
    if donation is None:
        return WAITING, NOT_RECORDED_YET
    key = f"donation:{donation.pk}:refund-failed:{refund.get('id')}"
    if JournalEntry.objects.filter(idempotency_key=key).exists():
        return IGNORED, "failed refund already recorded"
    try:
        amount = to_fund_currency(donation, from_minor_units(int(refund["amount"]), refund["currency"]))
    except NotConvertible as error:
        return FLAGGED, str(error)
    refunded = donation.amount_refunded or zero(donation.fund.currency)
    if refunded < amount:
        # The refund itself is not booked yet (its charge.refunded is still to come).
        return WAITING, "the refund is not recorded yet"
    fund = ledger.lock_fund(donation.fund)
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.REFUND,
        memo=_("Failed refund of donation #%(number)s: the money came back") % {"number": donation.pk},
        lines=[ledger.debit(fund, AccountKind.PROCESSOR_CASH, amount), ledger.credit(fund, AccountKind.REFUNDS, amount)],
        reference=refund.get("id") or "",
        donation=donation,
        idempotency_key=key,
    )  # fmt: skip
    donation.amount_refunded = refunded - amount
    move_donation(donation, "refund_failed_part" if donation.amount_refunded.amount else "refund_failed",
                  note=refund.get("id") or "", fields=("amount_refunded", "refunded_currency"))  # fmt: skip
    invalidate_progress(fund)
    return PROCESSED, ""


# --- Disputes --------------------------------------------------------------------------------


def _dispute_key(donation: Donation, dispute_id: str) -> str:
    return f"donation:{donation.pk}:dispute:{dispute_id}"


def _dispute_donation(event: WebhookEvent) -> tuple[dict, Donation | None]:
    dispute = _obj(event)
    return dispute, _by_charge(event.foundation, dispute, dispute.get("charge") or "")


def _withdraw(donation: Donation, dispute: dict) -> tuple[str, str]:
    """Stripe took the disputed amount from the balance: it leaves the fund (once per dispute)."""
    key = _dispute_key(donation, dispute.get("id") or "")
    if JournalEntry.objects.filter(idempotency_key=key).exists():
        return IGNORED, "dispute withdrawal already recorded"
    if donation.status not in DONATION_TRANSITIONS["dispute"].sources:
        return FLAGGED, f"dispute of a donation that is {donation.status}"
    try:
        amount = to_fund_currency(
            donation,
            from_minor_units(
                int(dispute.get("amount") or 0), dispute.get("currency") or donation.fund.currency
            ),
        )
    except NotConvertible as error:
        return FLAGGED, str(error)
    remaining = donation.gross - (donation.amount_refunded or zero(donation.fund.currency))
    if not 0 < amount.amount <= remaining.amount:
        return FLAGGED, f"disputed {amount} of {remaining}"
    fund = ledger.lock_fund(donation.fund)
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.DISPUTE,
        memo=_("Dispute of donation #%(number)s") % {"number": donation.pk},
        lines=[ledger.debit(fund, AccountKind.REFUNDS, amount), ledger.credit(fund, AccountKind.PROCESSOR_CASH, amount)],
        reference=dispute.get("id") or "",
        donation=donation,
        idempotency_key=key,
    )  # fmt: skip
    move_donation(donation, "dispute", note=dispute.get("id") or "")
    invalidate_progress(fund)
    return PROCESSED, ""


def _reinstate(donation: Donation, dispute: dict) -> tuple[str, str]:
    """Stripe gave the disputed amount back: it returns to the fund (once per dispute). Should the
    withdrawal's event not have been applied yet, it is booked first, so the two always pair."""
    key = _dispute_key(donation, dispute.get("id") or "")
    if JournalEntry.objects.filter(idempotency_key=f"{key}:won").exists():
        return IGNORED, "dispute reinstatement already recorded"
    opened = JournalEntry.objects.filter(idempotency_key=key).first()
    if opened is None:
        status, note = _withdraw(donation, dispute)
        if status != PROCESSED:
            return status, note
        opened = JournalEntry.objects.get(idempotency_key=key)
    if donation.status != D.DISPUTED:
        return FLAGGED, f"reinstated dispute of a donation that is {donation.status}"
    fund = ledger.lock_fund(donation.fund)
    lines = [
        ledger.Line(fund, line.account.kind, -line.amount) for line in opened.lines.select_related("account")
    ]
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.DISPUTE,
        memo=_("Dispute of donation #%(number)s won") % {"number": donation.pk},
        lines=lines,
        reference=dispute.get("id") or "",
        donation=donation,
        reverses=opened,
        idempotency_key=f"{key}:won",
    )
    move_donation(donation, "win_dispute_after_refund" if donation.amount_refunded else "win_dispute")
    invalidate_progress(fund)
    return PROCESSED, ""


def _inquiry(donation: Donation, dispute: dict, action: str) -> tuple[str, str]:
    record(subject=donation, subject_type="donation", action=action, actor=None, foundation=donation.foundation,
           from_state=donation.status, to_state=donation.status, note=dispute.get("id") or "")  # fmt: skip
    return PROCESSED, "inquiry: Stripe took no money"


def on_dispute_created(event: WebhookEvent) -> tuple[str, str]:
    """``charge.dispute.created``: a chargeback takes the money out until the bank decides; an
    inquiry (status ``warning_*``) takes none and is only recorded."""
    dispute, donation = _dispute_donation(event)
    if donation is None:
        return WAITING, NOT_RECORDED_YET
    status = dispute.get("status") or ""
    if status in INQUIRY:
        return _inquiry(donation, dispute, "dispute_inquiry")
    if status not in FUNDS_WITHDRAWN:
        return IGNORED, f"dispute is {status}"
    return _withdraw(donation, dispute)


def on_dispute_funds_withdrawn(event: WebhookEvent) -> tuple[str, str]:
    """``charge.dispute.funds_withdrawn``: Stripe took the disputed amount (also when an inquiry
    became a chargeback)."""
    dispute, donation = _dispute_donation(event)
    if donation is None:
        return WAITING, NOT_RECORDED_YET
    return _withdraw(donation, dispute)


def on_dispute_funds_reinstated(event: WebhookEvent) -> tuple[str, str]:
    """``charge.dispute.funds_reinstated``: Stripe gave the disputed amount back."""
    dispute, donation = _dispute_donation(event)
    if donation is None:
        return WAITING, NOT_RECORDED_YET
    return _reinstate(donation, dispute)


def on_dispute_closed(event: WebhookEvent) -> tuple[str, str]:
    """``charge.dispute.closed``: won, the amount comes back (unless ``funds_reinstated`` did it);
    lost, it stays out (booked now if its withdrawal was not); an inquiry closed moves nothing."""
    dispute, donation = _dispute_donation(event)
    if donation is None:
        return WAITING, NOT_RECORDED_YET
    status = dispute.get("status")
    if status in INQUIRY:
        return _inquiry(donation, dispute, "dispute_inquiry_closed")
    if status == "won":
        return _reinstate(donation, dispute)
    if status != "lost":
        return IGNORED, f"dispute closed as {status}"
    if donation.status == D.LOST_DISPUTE:
        return IGNORED, "dispute already lost"
    outcome = _withdraw(donation, dispute)
    if outcome[0] == FLAGGED:
        return outcome
    if donation.status != D.DISPUTED:
        return FLAGGED, f"lost dispute of a donation that is {donation.status}"
    move_donation(donation, "lose_dispute", note=dispute.get("id") or "")
    return PROCESSED, ""
