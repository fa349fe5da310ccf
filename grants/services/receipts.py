"""Donation receipts and donors' yearly summaries, emailed in the donor's language.

Receipt numbers
---------------
Each foundation numbers its receipts 1, 2, 3… in one sequence that never restarts (the database
holds the integer, unique per foundation). The number is taken under a row lock on the
foundation (highest number + 1); the unique constraint is the backstop. People read it as
``<FOUNDATION-SLUG>-<number on six digits>``, e.g. ``BAY-AREA-000123`` (``receipt_label``).

A receipt is issued once per donation, when the gift is received (any state but "waiting for
payment" and "not completed"). It goes to the donor even when the gift is anonymous: anonymity
is about the public, the receipt is the donor's own record. ``resend_receipt`` sends the same
receipt (same number) again, at the request of the foundation's admins or finance staff.

A voided gift (``offline_gifts.void_gift``) keeps its number: the donor gets the receipt again
marked VOID (``send_void_notice``), the admin shows it VOID, it is never resent as valid, and
the number is never given to another gift (numbers are the highest ever used + 1).

Yearly summaries
----------------
``send_donor_summaries(year)`` sends each donor one email listing their gifts received that
year (net of refunds per gift; gifts fully refunded or lost in a dispute are left out), with
the total per currency. Each one sent writes an activity entry (``subject_type="donor"``,
``action="yearly_summary_sent"``, the year in ``note``), checked under a lock on the donor,
so a donor hears about a year at most once however often the job runs.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import ActivityEntry, Donation, DonationStatus, Donor, Foundation, translated
from grants.permissions import Capability, can
from grants.services.errors import DomainError
from grants.services.notifications import send_templated_email
from grants.services.workflow import record

# Gifts that were received (possibly refunded or disputed later): each has a receipt.
RECEIPTABLE_STATES = (
    DonationStatus.COMPLETED,
    DonationStatus.PARTIALLY_REFUNDED,
    DonationStatus.REFUNDED,
    DonationStatus.DISPUTED,
    DonationStatus.LOST_DISPUTE,
)
# Gifts that count in a yearly summary (the refunded part of each is taken off).
SUMMARY_STATES = (DonationStatus.COMPLETED, DonationStatus.PARTIALLY_REFUNDED, DonationStatus.DISPUTED)
SUMMARY_SUBJECT_TYPE = "donor"
SUMMARY_ACTION = "yearly_summary_sent"


class ReceiptError(DomainError):
    """A receipt could not be sent: the gift was not received, or the person may not resend it."""


def receipt_label(foundation: Foundation, number: int | None) -> str:
    """The receipt number as people read it: ``BAY-AREA-000123``; empty when there is none."""
    if number is None:
        return ""
    return f"{foundation.slug.upper()}-{number:06d}"


def gift_date(donation: Donation):
    """The day the gift was received: the date staff entered, else the day payment completed."""
    if donation.received_on:
        return donation.received_on
    if donation.completed_at:
        return timezone.localdate(donation.completed_at)
    return timezone.localdate(donation.created_at)


def _next_number(foundation: Foundation) -> int:
    highest = Donation.objects.filter(foundation=foundation).aggregate(highest=Max("receipt_number"))
    return (highest["highest"] or 0) + 1


def _send_receipt(donation: Donation, extra_context: dict | None = None) -> None:
    foundation, donor = donation.foundation, donation.donor
    context = {
        **(extra_context or {}),
        "donation": donation,
        "donor": donor,
        "foundation": foundation,
        "fund": donation.fund,
        "receipt_number": receipt_label(foundation, donation.receipt_number),
        "amount": donation.gross,
        "date": gift_date(donation),
        "monthly": donation.kind == "monthly",
    }
    send_templated_email("donation_receipt", to=[donor.email], language=donor.language, context=context)


def issue_receipt(donation: Donation, extra_context: dict | None = None) -> None:
    """Number a received gift's receipt and email it to the donor (after commit); once only.

    Does nothing for a gift that was not received (waiting for payment, not completed) or that
    already has its receipt, so calling it again (a replayed webhook) sends nothing. The
    foundation row is locked while the number is chosen, so two gifts never share one.
    ``extra_context`` is added to the email's context (e.g. ``manage_url`` for a monthly gift).
    """
    with transaction.atomic():
        Foundation.objects.select_for_update().get(pk=donation.foundation_id)
        current = Donation.objects.select_for_update(of=("self",)).select_related(
            "foundation", "fund", "donor"
        )
        current = current.get(pk=donation.pk)
        if current.status not in RECEIPTABLE_STATES or current.receipt_number is not None:
            return
        current.receipt_number = _next_number(current.foundation)
        current.receipt_sent_at = timezone.now()
        try:
            with transaction.atomic():
                current.save(update_fields=["receipt_number", "receipt_sent_at"])
        except IntegrityError as error:
            raise ReceiptError(_("Two receipts got the same number; try again.")) from error
        record(subject=current, subject_type="donation", action="receipt_issued", actor=None,
               foundation=current.foundation, note=receipt_label(current.foundation, current.receipt_number))  # fmt: skip
        _send_receipt(current, extra_context)
    donation.receipt_number = current.receipt_number
    donation.receipt_sent_at = current.receipt_sent_at


def resend_receipt(donation: Donation, *, by, extra_context: dict | None = None) -> None:
    """Email the gift's receipt to the donor again, with the same number.

    Only the foundation's admins and finance officers may; a gift without a receipt yet gets
    its first one. Raises ``ReceiptError`` when the person may not, or the gift was not received.
    """
    if not can(by, Capability.RESEND_RECEIPTS, donation.foundation_id):
        raise ReceiptError(_("Only the foundation's admins and finance staff can resend a receipt."))
    if donation.status == DonationStatus.VOIDED:
        raise ReceiptError(_("This gift is void, and so is its receipt."))
    if donation.status not in RECEIPTABLE_STATES:
        raise ReceiptError(_("This gift has not been received, so it has no receipt."))
    if donation.receipt_number is None:
        issue_receipt(donation, extra_context)
        return
    with transaction.atomic():
        current = Donation.objects.select_for_update(of=("self",)).select_related(
            "foundation", "fund", "donor"
        )
        current = current.get(pk=donation.pk)
        current.receipt_sent_at = timezone.now()
        current.save(update_fields=["receipt_sent_at"])
        record(subject=current, subject_type="donation", action="receipt_resent", actor=by,
               foundation=current.foundation, note=receipt_label(current.foundation, current.receipt_number))  # fmt: skip
        _send_receipt(current, extra_context)
    donation.receipt_sent_at = current.receipt_sent_at


def send_void_notice(donation: Donation) -> None:
    """Email the donor their receipt marked VOID, with the reason (after commit); nothing when the
    gift never had a receipt. The caller has voided ``donation`` in the current transaction."""
    if donation.receipt_number is None:
        return
    record(subject=donation, subject_type="donation", action="receipt_voided", actor=None,
           foundation=donation.foundation, note=receipt_label(donation.foundation, donation.receipt_number))  # fmt: skip
    _send_receipt(donation, {"void": True, "void_reason": donation.void_reason})


# --- Yearly summaries ----------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryGift:
    date: object
    fund: str
    amount: Money
    receipt_number: str


def _in_year(year: int) -> Q:
    return Q(received_on__year=year) | Q(received_on__isnull=True, completed_at__year=year)


def net_amount(donation: Donation) -> Money:
    """What the foundation kept of a gift: what was charged less what was refunded."""
    refunded = donation.amount_refunded
    if refunded is None:
        return donation.gross
    return donation.gross - refunded


def donor_year_gifts(donor: Donor, year: int) -> list[SummaryGift]:
    """The donor's gifts received in ``year``, net of refunds, oldest first (none fully refunded)."""
    donations = (
        Donation.objects.filter(_in_year(year), donor=donor, status__in=SUMMARY_STATES)
        .select_related("fund", "foundation")
        .order_by("received_on", "completed_at", "pk")
    )
    gifts = []
    for donation in donations:
        amount = net_amount(donation)
        if amount.amount <= 0:
            continue
        gifts.append(
            SummaryGift(
                date=gift_date(donation),
                fund=translated(donation.fund, "name", donor.language),
                amount=amount,
                receipt_number=receipt_label(donation.foundation, donation.receipt_number),
            )
        )
    return sorted(gifts, key=lambda gift: gift.date)


def totals_per_currency(amounts) -> list[Money]:
    """One total per currency (never adding different currencies), sorted by currency code."""
    totals: dict[str, Decimal] = {}
    for amount in amounts:
        code = str(amount.currency)
        totals[code] = totals.get(code, Decimal(0)) + amount.amount
    return [Money(totals[code], code) for code in sorted(totals)]


def summary_sent(donor_id: int, year: int) -> bool:
    return ActivityEntry.objects.filter(
        subject_type=SUMMARY_SUBJECT_TYPE, subject_id=donor_id, action=SUMMARY_ACTION, note=str(year)
    ).exists()


def send_donor_summary(donor_id: int, year: int) -> bool:
    """Send one donor their summary of ``year`` unless it was sent or there is nothing in it."""
    with transaction.atomic():
        donor = (
            Donor.objects.select_for_update(of=("self",))
            .select_related("foundation")
            .filter(pk=donor_id)
            .first()
        )
        if donor is None or summary_sent(donor.pk, year):
            return False
        gifts = donor_year_gifts(donor, year)
        if not gifts:
            return False
        send_templated_email(
            "donor_yearly_summary",
            to=[donor.email],
            language=donor.language,
            context={
                "donor": donor,
                "foundation": donor.foundation,
                "year": year,
                "gifts": gifts,
                "totals": totals_per_currency(gift.amount for gift in gifts),
            },
        )
        record(subject=donor, subject_type=SUMMARY_SUBJECT_TYPE, action=SUMMARY_ACTION, actor=None,
               foundation=donor.foundation, note=str(year))  # fmt: skip
    return True


def send_donor_summaries(year: int, foundation: Foundation | None = None) -> int:
    """Email every donor (of ``foundation``, or of all) with gifts in ``year`` their summary.

    Returns how many emails were sent. Safe to run again: donors already sent that year's
    summary are skipped.
    """
    donations = Donation.objects.filter(_in_year(year), status__in=SUMMARY_STATES)
    if foundation is not None:
        donations = donations.filter(foundation=foundation)
    donor_ids = sorted(set(donations.values_list("donor_id", flat=True)))
    return sum(send_donor_summary(donor_id, year) for donor_id in donor_ids)
