"""Giving to a fund online: amounts and fees, Stripe Checkout, the donation's state machine,
progress to the fund's goal, and the donor's emailed link to manage a monthly gift. What Stripe's
events say about gifts is applied by ``grants.services.donation_events``.

Public API (views, the webhook table and the receipts service call these):

- ``suggested_amounts(fund)``, ``check_amount(fund, amount)``, ``fee_to_cover(amount)`` and
  ``charge_for(amount, cover_fee=...)``: what the donate form offers and refuses.
- ``start_donation(...) -> (Donation, checkout_url)``: a pending donation (and monthly gift) and
  its Checkout page. Nothing is received until Stripe's webhook says so.
- ``DONATION_TRANSITIONS``, ``move_donation(donation, name)`` and ``mark_gift_cancelled(gift)``:
  the state changes the event handlers make.
- ``fund_progress(fund)`` (cached) and ``invalidate_progress(fund)``: call the latter after any
  change of a fund's donations (offline gifts too).
- ``manage_link(donor) -> absolute URL`` (valid ``DONOR_LINK_MAX_AGE_DAYS``),
  ``donor_from_token(token)``, ``cancel_monthly_gift(gift, donor=...)``,
  ``send_manage_links(email=..., language=...)``.

Fees: covering the fee charges ``ceil((amount + fixed) / (1 - percent / 100))`` in the
currency's minor unit, so that after Stripe's percentage and fixed part the fund nets at least
the gift. The fixed part (``DONATION_FEE_FIXED_MINOR_UNITS``, "30 cents") applies only to
currencies with minor units, as in Stripe's pricing and the simulator: 30 yen is not 30 cents.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    Donation,
    DonationStatus,
    Donor,
    Fund,
    FundStatus,
    GiftKind,
    RecurringGift,
    RecurringGiftStatus,
    WebhookEventStatus,
    translated,
)
from grants.money import currency_exponent, from_minor_units, is_whole_in_minor_units, minor_unit
from grants.payments.gateway import PaymentError, get_gateway
from grants.services import ledger, page_cache
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
# Monthly gifts that are running (a payment may be overdue, or Stripe paused it after failures):
# the donor can still stop them and ask for a manage link.
LIVE_GIFT_STATES = (RecurringGiftStatus.ACTIVE, RecurringGiftStatus.PAST_DUE, RecurringGiftStatus.UNPAID)
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
        Transition("fail", (D.PENDING,), D.FAILED, (SYSTEM,)),
        Transition("refund_part", (D.COMPLETED, D.PARTIALLY_REFUNDED), D.PARTIALLY_REFUNDED, (SYSTEM,)),
        Transition("refund", (D.COMPLETED, D.PARTIALLY_REFUNDED), D.REFUNDED, (SYSTEM,)),
        # A refund that failed (or was cancelled) at the bank: the money came back.
        Transition("refund_failed", (D.REFUNDED, D.PARTIALLY_REFUNDED), D.COMPLETED, (SYSTEM,)),
        Transition("refund_failed_part", (D.REFUNDED, D.PARTIALLY_REFUNDED), D.PARTIALLY_REFUNDED, (SYSTEM,)),
        Transition("dispute", (D.COMPLETED, D.PARTIALLY_REFUNDED), D.DISPUTED, (SYSTEM,)),
        Transition("win_dispute", (D.DISPUTED,), D.COMPLETED, (SYSTEM,)),
        Transition("win_dispute_after_refund", (D.DISPUTED,), D.PARTIALLY_REFUNDED, (SYSTEM,)),
        Transition("lose_dispute", (D.DISPUTED,), D.LOST_DISPUTE, (SYSTEM,)),
    )
}


def move_donation(donation: Donation, name: str, *, note: str = "", fields=()) -> None:
    """Apply transition ``name`` of ``DONATION_TRANSITIONS`` (by Stripe: the system) and record it."""
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
        product_name = product % {"fund": translated(fund, "name", language)}
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
            move_donation(Donation.objects.select_for_update().get(pk=donation.pk), "expire", note=error.kind)
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


def mark_gift_cancelled(gift: RecurringGift, *, note: str = "") -> bool:
    """Cancel a monthly gift (its row locked by the caller); ``False`` when it already was."""
    if gift.status == RecurringGiftStatus.CANCELLED:
        return False
    previous = gift.status
    gift.status, gift.cancelled_at = RecurringGiftStatus.CANCELLED, timezone.now()
    gift.save(update_fields=["status", "cancelled_at"])
    record(subject=gift, subject_type="recurring_gift", action="cancel", actor=None, foundation=gift.foundation,
           from_state=previous, to_state=gift.status, note=note)  # fmt: skip
    return True


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

    Raises ``DonationRefused`` for someone else's gift or one not running (active, overdue, paused), ``PaymentError`` when
    Stripe cannot cancel (nothing changes; try again).
    """
    with transaction.atomic():
        locked = RecurringGift.objects.select_for_update().filter(pk=gift.pk, donor=donor).first()
        if locked is None or locked.status not in LIVE_GIFT_STATES or not locked.stripe_subscription_id:
            raise DonationRefused(_("This monthly gift is not active."))
        get_gateway(locked.foundation).cancel_subscription(subscription_id=locked.stripe_subscription_id)
        mark_gift_cancelled(locked, note=_("cancelled by the donor"))
    return locked


def send_manage_links(*, email: str, language: str) -> None:
    """Email a fresh manage link to each donor with this address and an active monthly gift.

    Says nothing back: whoever asks must not learn whether an address belongs to a donor.
    """
    donors = (
        Donor.objects.filter(
            email__iexact=(email or "").strip(), recurring_gifts__status__in=LIVE_GIFT_STATES
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
