"""Giving to a fund online: amounts and fees, Stripe Checkout, what Stripe's webhooks report,
progress to the fund's goal, and the donor's emailed link to manage a monthly gift.

Public API (views, the webhook table and the receipts service call these):

- ``suggested_amounts(fund)``, ``check_amount(fund, amount)``, ``fee_to_cover(amount)`` and
  ``charge_for(amount, cover_fee=...)``: what the donate form offers and refuses.
- ``start_donation(...) -> (Donation, checkout_url)``: a pending donation (and monthly gift) and
  its Checkout page. Nothing is received until Stripe's webhook says so.
- ``on_checkout_completed``, ``on_invoice_paid``, ``on_charge_refunded``, ``on_dispute_created``,
  ``on_dispute_closed``, ``on_subscription_deleted``: webhook handlers (``DONATION_HANDLERS``),
  each taking the stored ``WebhookEvent`` and returning ``(status, note)``.
- ``fund_progress(fund)`` (cached) and ``invalidate_progress(fund)``: call the latter after any
  change of a fund's donations (offline gifts too).
- ``manage_link(donor) -> absolute URL`` (valid ``DONOR_LINK_MAX_AGE_DAYS``),
  ``donor_from_token(token)``, ``cancel_monthly_gift(gift, donor=...)``,
  ``send_manage_links(email=..., language=...)``.

Fees: covering the fee charges ``ceil((amount + fixed) / (1 - percent / 100))`` in the
currency's minor unit, so that after Stripe's percentage and fixed part the fund nets at least
the gift. The fixed part (``DONATION_FEE_FIXED_MINOR_UNITS``, "30 cents") applies only to
currencies with minor units, as in Stripe's pricing and the simulator: 30 yen is not 30 cents.

A monthly gift's first payment is recorded from ``checkout.session.completed`` when the session
names its invoice (Stripe does), else from the first ``invoice.paid``; either way the other
event finds the payment already recorded (by invoice or payment intent) and changes nothing.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Donation,
    DonationStatus,
    Donor,
    EntryCause,
    Fund,
    FundStatus,
    GiftKind,
    JournalEntry,
    RecurringGift,
    RecurringGiftStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.money import currency_exponent, from_minor_units, is_whole_in_minor_units, minor_unit, zero
from grants.payments.gateway import PaymentError, get_gateway
from grants.services import ledger, page_cache, receipts
from grants.services.errors import DomainError
from grants.services.notifications import send_templated_email
from grants.services.workflow import SYSTEM, Transition, check_transition, record

PROCESSED, IGNORED, FLAGGED = (
    WebhookEventStatus.PROCESSED,
    WebhookEventStatus.IGNORED,
    WebhookEventStatus.FLAGGED,
)
DONOR = "donor"
MANAGE_LINK_SALT = "grants.donations.manage-link"
PROGRESS_CACHE_SECONDS = 15 * 60
# Gifts whose donors count as "people who gave" on the fund page.
COUNTED_STATES = (DonationStatus.COMPLETED, DonationStatus.PARTIALLY_REFUNDED, DonationStatus.DISPUTED)


class DonationRefused(DomainError):
    """A gift was refused: the fund takes no donations, or the amount is outside its limits."""


D = DonationStatus
DONATION_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("complete", (D.PENDING,), D.COMPLETED, (SYSTEM,)),
        Transition("expire", (D.PENDING,), D.EXPIRED, (SYSTEM,)),
        Transition("refund_part", (D.COMPLETED, D.PARTIALLY_REFUNDED), D.PARTIALLY_REFUNDED, (SYSTEM,)),
        Transition("refund", (D.COMPLETED, D.PARTIALLY_REFUNDED), D.REFUNDED, (SYSTEM,)),
        Transition("dispute", (D.COMPLETED, D.PARTIALLY_REFUNDED), D.DISPUTED, (SYSTEM,)),
        Transition("win_dispute", (D.DISPUTED,), D.COMPLETED, (SYSTEM,)),
        Transition("win_dispute_after_refund", (D.DISPUTED,), D.PARTIALLY_REFUNDED, (SYSTEM,)),
        Transition("lose_dispute", (D.DISPUTED,), D.LOST_DISPUTE, (SYSTEM,)),
    )
}


def _move(donation: Donation, name: str, *, note: str = "", fields=()) -> None:
    previous = donation.status
    target = check_transition(DONATION_TRANSITIONS, name, previous, SYSTEM, states=DonationStatus).target
    donation.status = target
    donation.save(update_fields=["status", *fields])
    record(subject=donation, subject_type="donation", action=name, actor=None,
           foundation=donation.foundation, from_state=previous, to_state=target, note=note[:500])  # fmt: skip


# --- Amounts and fees ------------------------------------------------------------------------


def suggested_amounts(fund: Fund) -> list[Money]:
    """The fund's preset amounts that are valid gifts, in order (bad entries are skipped)."""
    amounts = []
    for part in (fund.donation_presets or "").split(","):
        try:
            value = Decimal(part.strip())
        except InvalidOperation:
            continue
        if value.is_finite() and fund.donation_minimum <= value <= fund.donation_maximum:
            amounts.append(Money(value.quantize(minor_unit(fund.currency)), fund.currency))
    return amounts


def check_amount(fund: Fund, amount: Money) -> Money:
    """Return ``amount`` if the fund accepts it as a gift, else raise ``DonationRefused``."""
    if str(amount.currency) != fund.currency:
        raise DonationRefused(_("Gifts to this fund are in %(currency)s.") % {"currency": fund.currency})
    if not is_whole_in_minor_units(amount.amount, fund.currency):
        if currency_exponent(fund.currency) == 0:
            raise DonationRefused(
                _("Amounts in %(currency)s have no decimals.") % {"currency": fund.currency}
            )
        raise DonationRefused(
            _("Use at most %(digits)s decimals for %(currency)s.")
            % {"digits": currency_exponent(fund.currency), "currency": fund.currency}
        )
    minimum, maximum = (
        Money(fund.donation_minimum, fund.currency),
        Money(fund.donation_maximum, fund.currency),
    )
    if amount < minimum:
        raise DonationRefused(_("The smallest gift to this fund is %(minimum)s.") % {"minimum": minimum})
    if amount > maximum:
        raise DonationRefused(_("The largest gift online is %(maximum)s.") % {"maximum": maximum})
    return amount


def fee_settings(currency: str) -> tuple[Decimal, Money]:
    """The fee rule for ``currency``: (percent, fixed part); no fixed part without minor units."""
    percent = Decimal(str(settings.DONATION_FEE_PERCENT))
    fixed = settings.DONATION_FEE_FIXED_MINOR_UNITS if currency_exponent(currency) > 0 else 0
    return percent, from_minor_units(int(fixed), currency)


def charge_for(amount: Money, *, cover_fee: bool) -> Money:
    """What the donor is charged: the gift, or with ``cover_fee`` enough that the fund nets it."""
    if not cover_fee:
        return amount
    currency = str(amount.currency)
    percent, fixed = fee_settings(currency)
    gross = (amount.amount + fixed.amount) / (1 - percent / 100)
    return Money(gross.quantize(minor_unit(currency), rounding=ROUND_CEILING), currency)


def fee_to_cover(amount: Money) -> Money:
    """What covering the fee adds to a gift of ``amount``."""
    return charge_for(amount, cover_fee=True) - amount


# --- Checkout --------------------------------------------------------------------------------


def start_donation(
    *,
    fund: Fund,
    amount: Money,
    monthly: bool,
    cover_fee: bool,
    anonymous: bool,
    name: str,
    email: str,
    language: str,
    success_url: str,
    cancel_url: str,
    dedication: str = "",
    message: str = "",
    consent_to_contact: bool = False,
) -> tuple[Donation, str]:
    """Record a pending gift and open its Stripe Checkout page; return the donation and the page URL.

    The donor is found by email within the foundation (name, language and consent updated). A
    monthly gift also gets a pending ``RecurringGift``. Raises ``DonationRefused`` when the fund
    takes no gifts or the amount is refused, ``PaymentError`` when Stripe cannot open the page
    (the donation is then marked "not completed" and the donor can simply try again).
    """
    if not fund.accepts_donations or fund.status != FundStatus.ACTIVE:
        raise DonationRefused(_("This fund is not taking donations right now."))
    check_amount(fund, amount)
    gross = charge_for(amount, cover_fee=cover_fee)
    with transaction.atomic():
        donor, _created = Donor.objects.get_or_create(
            foundation=fund.foundation, email=email.strip().lower(), defaults={"name": name.strip()}
        )
        donor.name, donor.language, donor.consent_to_contact = name.strip(), language, consent_to_contact
        donor.save(update_fields=["name", "language", "consent_to_contact"])
        gift = None
        if monthly:
            gift = RecurringGift.objects.create(
                foundation=fund.foundation, fund=fund, donor=donor, amount=amount, cover_fee=cover_fee,
                anonymous=anonymous,
            )  # fmt: skip
        donation = Donation.objects.create(
            foundation=fund.foundation, fund=fund, donor=donor, recurring_gift=gift,
            kind=GiftKind.MONTHLY if monthly else GiftKind.ONE_TIME, amount=amount, cover_fee=cover_fee,
            gross=gross, anonymous=anonymous, dedication=dedication.strip()[:200], message=message.strip(),
        )  # fmt: skip
        record(subject=donation, subject_type="donation", action="start", actor=None,
               foundation=fund.foundation, to_state=donation.status)  # fmt: skip
    with translation.override(language):
        product = _("Monthly gift to %(fund)s") if monthly else _("Gift to %(fund)s")
        product_name = product % {"fund": fund.name}
    try:
        session = get_gateway(fund.foundation).create_checkout_session(
            mode="subscription" if monthly else "payment",
            amount=gross,
            product_name=product_name,
            success_url=success_url,
            cancel_url=cancel_url,
            customer_email=donor.email,
            metadata={"donation": donation.pk, "fund": fund.pk},
            idempotency_key=f"donation:{donation.pk}:checkout",
        )
    except PaymentError as error:
        with transaction.atomic():
            _move(Donation.objects.select_for_update().get(pk=donation.pk), "expire", note=error.kind)
        raise
    donation.checkout_session_id = session.id
    donation.save(update_fields=["checkout_session_id"])
    return donation, session.url


def donation_for_session(session_id: str) -> Donation | None:
    """The donation paid on Checkout session ``session_id`` (for the thank-you page)."""
    if not session_id:
        return None
    return (
        Donation.objects.select_related("fund", "recurring_gift", "donor")
        .filter(checkout_session_id=session_id)
        .first()
    )


# --- What Stripe reports (webhook handlers, run inside the webhook's transaction) -------------


def _obj(event: WebhookEvent) -> dict:
    return event.payload["data"]["object"]


def _locked(foundation, **filters) -> Donation | None:
    return Donation.objects.select_for_update().filter(foundation=foundation, **filters).first()


def _by_metadata(foundation, metadata: dict) -> Donation | None:
    donation_id = str((metadata or {}).get("donation") or "")
    return _locked(foundation, pk=int(donation_id)) if donation_id.isdigit() else None


def _amount_problem(donation: Donation, amount_minor, currency) -> str:
    """Why a payment Stripe reports cannot be this donation's ("" when it matches)."""
    if not isinstance(amount_minor, int) or not currency:
        return "no amount"
    paid = from_minor_units(amount_minor, currency)
    if paid != donation.gross:
        return f"amount {paid} != {donation.gross} of donation {donation.pk}"
    return ""


def _record_received(donation: Donation, *, charge, invoice_id: str = "") -> None:
    """The payment arrived: the donation is received, the ledger books it, the receipt goes out."""
    fund = ledger.lock_fund(donation.fund)
    currency = fund.currency
    fee = charge.fee if charge.fee is not None else zero(currency)
    donation.fee = fee
    donation.payment_intent_id = charge.payment_intent or None
    donation.invoice_id = invoice_id or None
    donation.charge_id = charge.id
    donation.completed_at = timezone.now()
    donation.received_on = timezone.localdate()
    _move(donation, "complete", note=charge.id,
          fields=("fee", "fee_currency", "payment_intent_id", "invoice_id", "charge_id", "completed_at",
                  "received_on"))  # fmt: skip
    lines = [ledger.debit(fund, AccountKind.PROCESSOR_CASH, donation.gross - fee)]
    if fee.amount:
        lines.append(ledger.debit(fund, AccountKind.FEES, fee))
    lines.append(ledger.credit(fund, AccountKind.DONATIONS, donation.gross))
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.DONATION,
        memo=_("Donation #%(number)s to %(fund)s") % {"number": donation.pk, "fund": fund.name},
        lines=lines,
        reference=charge.id,
        donation=donation,
        idempotency_key=f"donation:{donation.pk}:received",
    )
    monthly = {"manage_url": manage_link(donation.donor)} if donation.recurring_gift_id else None
    receipts.issue_receipt(donation, extra_context=monthly)
    invalidate_progress(fund)


def on_checkout_completed(event: WebhookEvent) -> tuple[str, str]:
    """``checkout.session.completed``: a one-time gift is received; a monthly gift becomes active."""
    session = _obj(event)
    donation = _by_metadata(event.foundation, session.get("metadata")) or _locked(
        event.foundation, checkout_session_id=session.get("id")
    )
    if donation is None:
        return FLAGGED, "unknown donation"
    if donation.checkout_session_id and donation.checkout_session_id != session.get("id"):
        return FLAGGED, f"session {session.get('id')} != {donation.checkout_session_id}"
    problem = _amount_problem(donation, session.get("amount_total"), session.get("currency"))
    if problem:
        return FLAGGED, problem
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return IGNORED, "not paid yet"
    gateway = get_gateway(event.foundation)
    if session.get("mode") == "subscription":
        gift = donation.recurring_gift and RecurringGift.objects.select_for_update().get(
            pk=donation.recurring_gift_id
        )
        if gift is None:
            return FLAGGED, f"donation {donation.pk} is not monthly"
        activated = _activate(gift, session.get("subscription") or "")
        invoice_id = session.get("invoice") or ""
        if donation.status == D.PENDING and invoice_id:
            _record_received(
                donation, charge=gateway.retrieve_charge(invoice=invoice_id), invoice_id=invoice_id
            )
            return PROCESSED, ""
        return (
            (PROCESSED, "first payment comes with its invoice") if activated else (IGNORED, "already active")
        )
    if donation.status != D.PENDING:
        return IGNORED, f"donation already {donation.status}"
    _record_received(donation, charge=gateway.retrieve_charge(payment_intent=session.get("payment_intent")))
    return PROCESSED, ""


def _activate(gift: RecurringGift, subscription_id: str) -> bool:
    if gift.status != RecurringGiftStatus.PENDING:
        return False
    gift.stripe_subscription_id = gift.stripe_subscription_id or subscription_id or None
    gift.status = RecurringGiftStatus.ACTIVE
    gift.save(update_fields=["stripe_subscription_id", "status"])
    record(subject=gift, subject_type="recurring_gift", action="activate", actor=None, foundation=gift.foundation,
           from_state=RecurringGiftStatus.PENDING, to_state=gift.status, note=subscription_id)  # fmt: skip
    return True


def _invoice_payment_intent(invoice: dict) -> str:
    for payment in (invoice.get("payments") or {}).get("data") or []:
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return intent
    return invoice.get("payment_intent") or ""  # API versions before 2025-03-31


def on_invoice_paid(event: WebhookEvent) -> tuple[str, str]:
    """``invoice.paid``: a month of a monthly gift was paid; the first month completes the
    Checkout donation, each later month is a new donation (each with its ledger entry and receipt)."""
    invoice = _obj(event)
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription_id = details.get("subscription") or invoice.get("subscription") or ""
    payment_intent = _invoice_payment_intent(invoice)
    gift = None
    if subscription_id:
        gift = (
            RecurringGift.objects.select_for_update()
            .filter(foundation=event.foundation, stripe_subscription_id=subscription_id)
            .first()
        )
    if gift is None:
        # The invoice may arrive before checkout.session.completed: trace it by its metadata.
        first = _by_metadata(event.foundation, details.get("metadata"))
        if first is None or first.recurring_gift_id is None:
            return FLAGGED, "unknown monthly gift"
        gift = RecurringGift.objects.select_for_update().get(pk=first.recurring_gift_id)
        if gift.stripe_subscription_id and gift.stripe_subscription_id != subscription_id:
            return FLAGGED, f"subscription {subscription_id} != {gift.stripe_subscription_id}"
        _activate(gift, subscription_id)
    known = Q(invoice_id=invoice.get("id"))
    if payment_intent:
        known |= Q(payment_intent_id=payment_intent)
    if Donation.objects.filter(known).exists():
        return IGNORED, "payment already recorded"
    donations = Donation.objects.select_for_update().filter(recurring_gift=gift).order_by("pk")
    first = donations.first()
    if first is None:
        return FLAGGED, "monthly gift without a donation"
    problem = _amount_problem(first, invoice.get("amount_paid"), invoice.get("currency"))
    if problem:
        return FLAGGED, problem
    pending = donations.filter(status=D.PENDING, invoice_id__isnull=True).first()
    if pending is not None and invoice.get("billing_reason") != "subscription_cycle":
        donation = pending
    else:
        donation = Donation.objects.create(
            foundation=gift.foundation, fund=gift.fund, donor=gift.donor, recurring_gift=gift,
            kind=GiftKind.MONTHLY, amount=first.amount, cover_fee=first.cover_fee, gross=first.gross,
            anonymous=gift.anonymous,
        )  # fmt: skip
    charge = get_gateway(event.foundation).retrieve_charge(payment_intent=payment_intent or None,
                                                          invoice=invoice.get("id"))  # fmt: skip
    _record_received(donation, charge=charge, invoice_id=invoice.get("id") or "")
    return PROCESSED, ""


def _by_charge(foundation, obj: dict, charge_id: str) -> Donation | None:
    payment_intent = obj.get("payment_intent") or ""
    donation = _locked(foundation, payment_intent_id=payment_intent) if payment_intent else None
    return donation or (_locked(foundation, charge_id=charge_id) if charge_id else None)


def on_charge_refunded(event: WebhookEvent) -> tuple[str, str]:
    """``charge.refunded``: book what was refunded since the last event (``amount_refunded`` is a total)."""
    charge = _obj(event)
    donation = _by_charge(event.foundation, charge, charge.get("id") or "")
    if donation is None:
        return FLAGGED, "unknown donation"
    problem = _amount_problem(donation, charge.get("amount"), charge.get("currency"))
    if problem:
        return FLAGGED, problem
    total = from_minor_units(int(charge.get("amount_refunded") or 0), charge["currency"])
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
    _move(donation, "refund" if total == donation.gross else "refund_part", note=str(total),
          fields=("amount_refunded", "refunded_currency"))  # fmt: skip
    invalidate_progress(fund)
    return PROCESSED, ""


def _dispute_key(donation: Donation, dispute_id: str) -> str:
    return f"donation:{donation.pk}:dispute:{dispute_id}"


def on_dispute_created(event: WebhookEvent) -> tuple[str, str]:
    """``charge.dispute.created``: the disputed amount leaves the fund until the bank decides."""
    dispute = _obj(event)
    donation = _by_charge(event.foundation, dispute, dispute.get("charge") or "")
    if donation is None:
        return FLAGGED, "unknown donation"
    if donation.status == D.DISPUTED:
        return IGNORED, "dispute already recorded"
    if donation.status not in DONATION_TRANSITIONS["dispute"].sources:
        return FLAGGED, f"dispute of a donation that is {donation.status}"
    amount = from_minor_units(
        int(dispute.get("amount") or 0), dispute.get("currency") or donation.fund.currency
    )
    remaining = donation.gross - (donation.amount_refunded or zero(donation.fund.currency))
    if str(amount.currency) != donation.fund.currency or not 0 < amount.amount <= remaining.amount:
        return FLAGGED, f"disputed {amount} of {remaining}"
    fund = ledger.lock_fund(donation.fund)
    ledger.post_entry(
        foundation=donation.foundation,
        cause=EntryCause.DISPUTE,
        memo=_("Dispute of donation #%(number)s") % {"number": donation.pk},
        lines=[ledger.debit(fund, AccountKind.REFUNDS, amount), ledger.credit(fund, AccountKind.PROCESSOR_CASH, amount)],
        reference=dispute.get("id") or "",
        donation=donation,
        idempotency_key=_dispute_key(donation, dispute.get("id") or ""),
    )  # fmt: skip
    _move(donation, "dispute", note=dispute.get("id") or "")
    invalidate_progress(fund)
    return PROCESSED, ""


def on_dispute_closed(event: WebhookEvent) -> tuple[str, str]:
    """``charge.dispute.closed``: won, the disputed amount comes back; lost, it stays out."""
    dispute = _obj(event)
    donation = _by_charge(event.foundation, dispute, dispute.get("charge") or "")
    if donation is None:
        return FLAGGED, "unknown donation"
    if donation.status != D.DISPUTED:
        return IGNORED, f"donation is {donation.status}"
    status = dispute.get("status")
    if status == "lost":
        _move(donation, "lose_dispute", note=dispute.get("id") or "")
        return PROCESSED, ""
    if status != "won":
        return IGNORED, f"dispute closed as {status}"
    opened = JournalEntry.objects.filter(
        idempotency_key=_dispute_key(donation, dispute.get("id") or "")
    ).first()
    if opened is None:
        return FLAGGED, "no entry for this dispute"
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
        idempotency_key=f"{opened.idempotency_key}:won",
    )
    _move(donation, "win_dispute_after_refund" if donation.amount_refunded else "win_dispute")
    invalidate_progress(fund)
    return PROCESSED, ""


def on_subscription_deleted(event: WebhookEvent) -> tuple[str, str]:
    """``customer.subscription.deleted``: the monthly gift is cancelled (no more payments)."""
    subscription = _obj(event)
    gift = (
        RecurringGift.objects.select_for_update()
        .filter(foundation=event.foundation, stripe_subscription_id=subscription.get("id"))
        .first()
    )
    if gift is None:
        return FLAGGED, "unknown monthly gift"
    return (
        (PROCESSED, "")
        if _cancel(gift, note=subscription.get("id") or "")
        else (IGNORED, "already cancelled")
    )


def _cancel(gift: RecurringGift, *, note: str = "") -> bool:
    if gift.status == RecurringGiftStatus.CANCELLED:
        return False
    previous = gift.status
    gift.status, gift.cancelled_at = RecurringGiftStatus.CANCELLED, timezone.now()
    gift.save(update_fields=["status", "cancelled_at"])
    record(subject=gift, subject_type="recurring_gift", action="cancel", actor=None, foundation=gift.foundation,
           from_state=previous, to_state=gift.status, note=note)  # fmt: skip
    return True


# --- Progress to the goal --------------------------------------------------------------------


@dataclass(frozen=True)
class FundProgress:
    """What a fund page shows: money raised online and offline (net of refunds), and by how many."""

    raised: Money
    donors: int
    goal: Money | None

    @property
    def percent(self) -> int:
        if not self.goal or self.goal.amount <= 0:
            return 0
        return max(0, min(100, int(self.raised.amount * 100 / self.goal.amount)))


def _progress_key(fund_id: int) -> str:
    return f"fund-progress:{fund_id}"


def fund_progress(fund: Fund) -> FundProgress:
    """The fund's progress, from the ledger (donations minus refunds), cached until a gift changes it."""
    cached = cache.get(_progress_key(fund.pk))
    if cached is None:
        balances = ledger.balances(fund)
        donors = (
            Donation.objects.filter(fund=fund, status__in=COUNTED_STATES)
            .values("donor_id")
            .distinct()
            .count()
        )
        cached = {"raised": str((balances.donations - balances.refunds).amount), "donors": donors}
        cache.set(_progress_key(fund.pk), cached, PROGRESS_CACHE_SECONDS)
    return FundProgress(
        raised=Money(Decimal(cached["raised"]), fund.currency),
        donors=cached["donors"],
        goal=fund.fundraising_goal,
    )


def invalidate_progress(fund: Fund) -> None:
    """Forget the cached progress once the current transaction commits (call after any gift change),
    and the cached public pages that show it."""
    key = _progress_key(fund.pk)
    transaction.on_commit(lambda: cache.delete(key))
    page_cache.invalidate_public_pages()


# --- Managing a monthly gift without an account ----------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=MANAGE_LINK_SALT)


def manage_token(donor: Donor) -> str:
    return _signer().sign(str(donor.pk))


def manage_link(donor: Donor) -> str:
    """Absolute URL of the page where ``donor`` sees and cancels their monthly gifts, in their
    language; valid for ``DONOR_LINK_MAX_AGE_DAYS`` days. For emails (the receipt's ``manage_url``)."""
    with translation.override(donor.language or settings.LANGUAGE_CODE):
        path = reverse("donation_manage", kwargs={"token": manage_token(donor)})
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def donor_from_token(token: str) -> Donor | None:
    """The donor a manage link was made for; ``None`` when it was altered or is too old."""
    max_age = datetime.timedelta(days=settings.DONOR_LINK_MAX_AGE_DAYS)
    try:
        donor_id = _signer().unsign(token, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return Donor.objects.select_related("foundation").filter(pk=int(donor_id)).first()


def monthly_gifts(donor: Donor):
    """The donor's monthly gifts that were set up (active first, then cancelled)."""
    return (
        RecurringGift.objects.filter(donor=donor)
        .exclude(status=RecurringGiftStatus.PENDING)
        .select_related("fund")
        .order_by("status", "-created_at")
    )


def cancel_monthly_gift(gift: RecurringGift, *, donor: Donor) -> RecurringGift:
    """Stop ``donor``'s monthly gift now: Stripe cancels the subscription and the gift is cancelled
    at once (the ``customer.subscription.deleted`` that follows changes nothing more).

    Raises ``DonationRefused`` for someone else's gift or one not active, ``PaymentError`` when
    Stripe cannot cancel (nothing changes; try again).
    """
    with transaction.atomic():
        locked = RecurringGift.objects.select_for_update().filter(pk=gift.pk, donor=donor).first()
        if locked is None or locked.status != RecurringGiftStatus.ACTIVE or not locked.stripe_subscription_id:
            raise DonationRefused(_("This monthly gift is not active."))
        get_gateway(locked.foundation).cancel_subscription(subscription_id=locked.stripe_subscription_id)
        _cancel(locked, note=_("cancelled by the donor"))
    return locked


def send_manage_links(*, email: str, language: str) -> None:
    """Email a fresh manage link to each donor with this address and an active monthly gift.

    Says nothing back: whoever asks must not learn whether an address belongs to a donor.
    """
    donors = (
        Donor.objects.filter(
            email__iexact=(email or "").strip(), recurring_gifts__status=RecurringGiftStatus.ACTIVE
        )
        .select_related("foundation")
        .distinct()
    )
    for donor in donors:
        send_templated_email(
            "donation_manage_link",
            to=[donor.email],
            language=donor.language or language,
            context={
                "foundation": donor.foundation,
                "url": manage_link(donor),
                "days": settings.DONOR_LINK_MAX_AGE_DAYS,
            },
        )
