"""Gifts received outside Stripe (a check, cash, a bank transfer), entered by finance staff.

An offline gift is recorded complete at once: the donor (found by email within the
foundation, or created), a received ``Donation`` with no processing fee, one journal entry
(debit cash held outside the processor, credit donations; key ``donation:<id>:received``) and,
unless asked not to, the receipt.

A check or bank reference is used once per foundation and channel (``ledger.claim_reference``):
entering the same check twice is refused, naming the gift it was first recorded for.

Voiding (``void_gift``): finance undoes an offline gift recorded by mistake (a bounced check, a
gift entered twice or to the wrong fund), with a reason. The ledger gets reversing entries, the
gift becomes "Void" (so fund totals, progress and transparency stop counting it), its receipt is
marked VOID and the donor is told; the receipt number stays with the voided gift and is never
given to another. Its reference is freed so the check can be entered again correctly. Online
gifts are not voided: the money went through Stripe, so they are refunded there.

The donor's email is always required: donors are known by email within a foundation (one donor
per foundation and email), and the receipt and yearly summary go there. A gift from someone
with no email is income, not a donor's gift: record it with ``ledger.record_income``.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants import languages
from grants.models import (
    AccountKind,
    Donation,
    DonationStatus,
    Donor,
    EntryCause,
    Fund,
    GiftKind,
    JournalEntry,
    PaymentChannel,
    PaymentReference,
    ReferenceMethod,
)
from grants.money import MoneyTypeError, check_money, currency_exponent
from grants.permissions import Capability, can
from grants.services import donations, ledger, receipts
from grants.services.errors import DomainError
from grants.services.ledger import DuplicateReference, credit, debit, post_entry
from grants.services.text_limits import within_limit
from grants.services.workflow import Transition, check_transition, record

OFFLINE_CHANNELS = (PaymentChannel.CHECK, PaymentChannel.CASH, PaymentChannel.BANK_TRANSFER)
# A check or a transfer can be traced on the bank statement only by its number.
REFERENCE_REQUIRED = (PaymentChannel.CHECK, PaymentChannel.BANK_TRANSFER)
REFERENCE_METHODS = {
    PaymentChannel.CHECK: ReferenceMethod.GIFT_CHECK,
    PaymentChannel.BANK_TRANSFER: ReferenceMethod.GIFT_BANK_TRANSFER,
    PaymentChannel.CASH: ReferenceMethod.GIFT_CASH,
}
FINANCE = "finance_officer"
# Only a gift received outside Stripe, and still standing, can be voided.
VOID = Transition("void", (DonationStatus.COMPLETED,), DonationStatus.VOIDED, (FINANCE,))


class OfflineGiftError(DomainError):
    """An offline gift was refused: bad amount, date, channel or donor, or the person may not record it.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def _check_amount(fund: Fund, amount) -> Money:
    if not isinstance(amount, Money):
        raise OfflineGiftError(_("Enter the amount of the gift."), "amount")
    if str(amount.currency) != fund.currency:
        raise OfflineGiftError(
            _("The amount must be in the fund's currency (%(currency)s).") % {"currency": fund.currency},
            "amount",
        )
    try:
        check_money(amount, currency=fund.currency)
    except MoneyTypeError:
        digits = currency_exponent(fund.currency)
        if digits == 0:
            message = _("Amounts in %(currency)s are whole numbers, without decimals.")
        else:
            message = _("Amounts in %(currency)s have at most %(digits)s decimals.")
        raise OfflineGiftError(message % {"currency": fund.currency, "digits": digits}, "amount") from None
    if amount.amount <= 0:
        raise OfflineGiftError(_("The amount must be greater than zero."), "amount")
    return amount


def _check_donor(name: str, email: str) -> tuple[str, str]:
    name, email = (name or "").strip(), (email or "").strip().lower()
    if not name:
        raise OfflineGiftError(_("Enter the donor's name."), "donor_name")
    if not email:
        raise OfflineGiftError(
            _("Enter the donor's email: donors are known by email, and receipts are sent there."),
            "donor_email",
        )
    try:
        validate_email(email)
    except ValidationError:
        raise OfflineGiftError(_("Enter a valid email address."), "donor_email") from None
    return name, email


def _donor_for(fund: Fund, *, name: str, email: str, language: str | None) -> Donor:
    """The foundation's donor with this email (name and language brought up to date), or a new one."""
    donor = Donor.objects.select_for_update().filter(foundation=fund.foundation, email__iexact=email).first()
    if donor is None:
        try:
            with transaction.atomic():
                return Donor.objects.create(
                    foundation=fund.foundation, email=email, name=name, language=language or "en"
                )
        except IntegrityError:  # created meanwhile by a webhook or another clerk
            donor = Donor.objects.select_for_update().get(foundation=fund.foundation, email__iexact=email)
    changed = []
    if donor.name != name:
        donor.name = name
        changed.append("name")
    if language and donor.language != language:
        donor.language = language
        changed.append("language")
    if changed:
        donor.save(update_fields=changed)
    return donor


def record_offline_gift(
    *,
    fund: Fund,
    donor_name: str,
    donor_email: str,
    amount: Money,
    channel: str,
    received_on: datetime.date,
    reference: str = "",
    anonymous: bool = False,
    dedication: str = "",
    by,
    send_receipt: bool = True,
    language: str | None = None,
) -> Donation:
    """Record a gift received by check, cash or bank transfer and return the received ``Donation``.

    Only the foundation's admins and finance officers may. ``amount`` is ``Money`` in the fund's
    currency, positive and whole in its minor unit; ``received_on`` is not in the future; a check
    or bank transfer needs its ``reference``; the donor's email is required (see the module
    docstring). ``language`` ("en"/"es") sets the donor's language for emails; left out, a known
    donor keeps theirs and a new one gets English. The receipt is emailed after commit when
    ``send_receipt``. Raises ``OfflineGiftError`` (with the field concerned) for any bad input.
    """
    if not can(by, Capability.ACT_ON_DONATIONS, fund.foundation_id):
        raise OfflineGiftError(_("Only the foundation's admins and finance staff can record gifts."))
    amount = _check_amount(fund, amount)
    name, email = _check_donor(donor_name, donor_email)
    if channel not in OFFLINE_CHANNELS:
        raise OfflineGiftError(
            _("Choose how the gift was received: check, cash or bank transfer."), "channel"
        )
    if not isinstance(received_on, datetime.date):
        raise OfflineGiftError(_("Enter the date the gift was received."), "received_on")
    if received_on > timezone.localdate():
        raise OfflineGiftError(_("The date received cannot be in the future."), "received_on")
    reference = (reference or "").strip()
    if channel in REFERENCE_REQUIRED and not reference:
        raise OfflineGiftError(_("Enter the check number or bank reference."), "reference")
    if language is not None and language not in languages.codes():
        raise OfflineGiftError(_("Choose the donor's language."), "language")
    with transaction.atomic():
        donor = _donor_for(fund, name=name, email=email, language=language)
        donation = Donation.objects.create(
            foundation=fund.foundation,
            fund=fund,
            donor=donor,
            kind=GiftKind.ONE_TIME,
            channel=channel,
            status=DonationStatus.COMPLETED,
            amount=amount,
            gross=amount,
            fee=Money(0, fund.currency),
            anonymous=anonymous,
            dedication=(dedication or "").strip(),
            reference=reference,
            received_on=received_on,
            created_by=by,
            completed_at=timezone.now(),
        )
        if reference:
            try:
                ledger.claim_reference(foundation=fund.foundation, method=REFERENCE_METHODS[channel],
                                       reference=reference, recorded_on=received_on, donation=donation)  # fmt: skip
            except DuplicateReference as error:
                raise OfflineGiftError(error.message, "reference") from None
        label = PaymentChannel(channel).label
        post_entry(
            foundation=fund.foundation,
            cause=EntryCause.DONATION,
            memo=f"{label}: {reference}" if reference else str(label),
            lines=[debit(fund, AccountKind.BANK_CASH, amount), credit(fund, AccountKind.DONATIONS, amount)],
            by=by,
            effective_date=received_on,
            reference=reference,
            donation=donation,
            idempotency_key=f"donation:{donation.pk}:received",
        )
        record(subject=donation, subject_type="donation", action="recorded_offline", actor=by,
               foundation=fund.foundation, to_state=DonationStatus.COMPLETED)  # fmt: skip
        donations.invalidate_progress(fund)
        if send_receipt:
            receipts.issue_receipt(donation)
    return donation


VOID_REASON_LENGTH = 300


def void_gift(donation: Donation, *, by, reason: str) -> Donation:
    """Void an offline gift recorded by mistake, with a reason (see the module docstring).

    Only the foundation's admins and finance officers may. Refused (``OfflineGiftError``) for a
    gift received through Stripe (refund it instead), a gift already void, or without a reason.
    """
    if not can(by, Capability.ACT_ON_DONATIONS, donation.foundation_id):
        raise OfflineGiftError(_("Only the foundation's admins and finance staff can void a gift."))
    reason = (reason or "").strip()
    if not reason:
        raise OfflineGiftError(_("Say why the gift is void; it stays in the gift's history."), "reason")
    reason = within_limit(reason, VOID_REASON_LENGTH)
    if donation.channel not in OFFLINE_CHANNELS:
        raise OfflineGiftError(
            _("Online gifts went through Stripe: refund them in Stripe instead of voiding them.")
        )
    with transaction.atomic():
        locked = (
            Donation.objects.select_for_update(of=("self",))
            .select_related("fund", "foundation")
            .get(pk=donation.pk)
        )
        if locked.status == DonationStatus.VOIDED:
            raise OfflineGiftError(_("This gift is already void."))
        previous = locked.status
        check_transition({VOID.name: VOID}, VOID.name, previous, FINANCE, states=DonationStatus)
        ledger.lock_fund(locked.fund)
        standing = JournalEntry.objects.filter(
            donation=locked, reverses__isnull=True, reversed_by__isnull=True
        ).order_by("pk")
        for entry in standing:
            ledger.reverse_entry(
                entry,
                by=by,
                memo=_("Gift #%(number)s void: %(reason)s") % {"number": locked.pk, "reason": reason},
                donation=locked,
            )
        PaymentReference.objects.filter(donation=locked).delete()
        locked.status = VOID.target
        locked.voided_at = timezone.now()
        locked.voided_by = by
        locked.void_reason = reason
        locked.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
        record(subject=locked, subject_type="donation", action="voided", actor=by,
               foundation=locked.foundation, from_state=previous, to_state=locked.status, note=reason)  # fmt: skip
        donations.invalidate_progress(locked.fund)
        receipts.send_void_notice(locked)
    donation.refresh_from_db()
    return donation
