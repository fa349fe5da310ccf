"""Installments: when each payment of an award is due, held, approved and paid.

A payment can only be made on an award the grantee has accepted, by finance staff who neither
approved the application nor made the award (four eyes on every payment). Paying posts the
ledger entry moving the money out of the fund's committed balance.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grants.models import (
    AccountKind,
    ActivityEntry,
    Award,
    AwardStatus,
    DisbursementStatus,
    EntryCause,
    Installment,
    InstallmentStatus,
    JournalEntry,
    ReferenceMethod,
)
from grants.money import zero
from grants.permissions import Capability, can
from grants.services import ledger
from grants.services.awards import AwardError, activate_on_first_payment, is_award_officer
from grants.services.errors import IllegalTransition
from grants.services.locks import retry_on_deadlock
from grants.services.workflow import Transition, check_transition, record

FINANCE = "finance_officer"
OFFICER = "program_officer"
SYSTEM = "system"

I = InstallmentStatus  # noqa: E741 (the table reads better with a one-letter alias)
INSTALLMENT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("become_due", (I.SCHEDULED,), I.DUE, (SYSTEM,)),
        Transition("hold", (I.SCHEDULED, I.DUE, I.FAILED), I.ON_HOLD, (OFFICER, FINANCE, SYSTEM)),
        Transition("lift_hold_scheduled", (I.ON_HOLD,), I.SCHEDULED, (OFFICER, FINANCE, SYSTEM)),
        Transition("lift_hold_due", (I.ON_HOLD,), I.DUE, (OFFICER, FINANCE, SYSTEM)),
        Transition("approve", (I.DUE, I.FAILED), I.APPROVED, (FINANCE,)),
        # Stripe's word that it made the transfer wins over a failure (or a hold after it).
        Transition("pay", (I.APPROVED, I.FAILED, I.ON_HOLD), I.PAID, (FINANCE, SYSTEM)),
        Transition("fail", (I.APPROVED,), I.FAILED, (SYSTEM,)),
        Transition("pay_outside_processor", (I.SCHEDULED, I.DUE, I.FAILED), I.PAID, (FINANCE,)),
        # Paid to a vendor at the grantee's request (grants.services.vendor_payments).
        Transition("pay_vendor", (I.SCHEDULED, I.DUE, I.FAILED), I.PAID, (FINANCE, SYSTEM)),
        # Stripe gave the money back: the payment waits on hold for finance to decide.
        Transition("payment_reversed", (I.APPROVED, I.PAID), I.ON_HOLD, (SYSTEM,)),
        # ...and finance decides to pay what came back by check or bank transfer instead.
        Transition("pay_outside_after_reversal", (I.ON_HOLD,), I.PAID, (FINANCE,)),
    )
}
PAYABLE_AWARD_STATES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE)


def _lock(installment: Installment) -> Installment:
    """Lock the installment after its award: the portal's one lock order (grants/services/locks.py)."""
    list(Award.objects.select_for_update().filter(pk=installment.award_id).values_list("pk"))
    return (
        Installment.objects.select_for_update(of=("self",))
        .select_related("award__fund__foundation", "award__application")
        .get(pk=installment.pk)
    )


def transition(installment: Installment, name: str, *, by, actor: str, note: str = "", fields=()) -> None:
    """Apply transition ``name`` to a locked installment and record it (visible to the grantee)."""
    previous = installment.status
    target = check_transition(INSTALLMENT_TRANSITIONS, name, previous, actor, states=InstallmentStatus).target
    installment.status = target
    installment.save(update_fields=["status", *fields])
    record(subject=installment, subject_type="installment", action=name, actor=by,
           foundation=installment.award.fund.foundation, from_state=previous, to_state=target, note=note,
           visible_to_applicant=True)  # fmt: skip


def _hold_actor(by, installment: Installment) -> str:
    foundation_id = installment.award.fund.foundation_id
    if can(by, Capability.RELEASE_PAYMENTS, foundation_id):  # those who release payments hold as finance
        return FINANCE
    if is_award_officer(by, installment.award):
        return OFFICER
    raise IllegalTransition(_("You are not allowed to do this."))


def finance_actor(by, installment: Installment) -> str:
    """Finance staff of the award's foundation who did not approve or make it, else refused."""
    award = installment.award
    if not can(by, Capability.RELEASE_PAYMENTS, award.fund.foundation_id):
        raise IllegalTransition(_("Only finance staff of this foundation can release payments."))
    if by.pk in (award.offered_by_id, award.application.decided_by_id):
        raise IllegalTransition(
            _("You approved this grant, so another finance officer must release its payments.")
        )
    return FINANCE


def mark_due_installments(*, today: datetime.date | None = None) -> int:
    """Scheduled installments whose date has come become due (daily task). Returns how many."""
    today = today or timezone.localdate()
    count = 0
    for pk in Installment.objects.filter(status=InstallmentStatus.SCHEDULED, due_date__lte=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            installment = _lock(Installment(pk=pk))
            if installment.status == InstallmentStatus.SCHEDULED and installment.due_date <= today:
                transition(installment, "become_due", by=None, actor=SYSTEM)
                count += 1
    return count


def hold_installment(installment: Installment, *, by, reason: str, actor: str | None = None) -> Installment:
    """Stop a payment from being released until the hold is lifted. The grantee sees the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise AwardError(_("Say why the payment is on hold; the grantee reads it."))
    with transaction.atomic():
        locked = _lock(installment)
        actor = actor or _hold_actor(by, locked)
        locked.hold_reason = reason[:300]
        transition(locked, "hold", by=by, actor=actor, note=reason[:300], fields=("hold_reason",))
    return locked


def lift_hold(installment: Installment, *, by, actor: str | None = None, today: datetime.date | None = None):
    """Lift a hold: the payment is due again (or scheduled when its date has not come)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock(installment)
        actor = actor or _hold_actor(by, locked)
        name = "lift_hold_due" if locked.due_date <= today else "lift_hold_scheduled"
        locked.hold_reason = ""
        transition(locked, name, by=by, actor=actor, fields=("hold_reason",))
    return locked


def _check_payable(installment: Installment) -> None:
    if installment.award.status not in PAYABLE_AWARD_STATES:
        raise AwardError(_("Payments start once the grantee has accepted the award."))
    problem = vendor_payment_problem(installment)
    if problem:
        raise AwardError(problem)


def vendor_payment_problem(installment: Installment) -> str | None:
    """Why ``installment`` cannot be paid to the grantee: a vendor payment approved for it (or
    sent, or paid) takes the whole installment (``None``: none does)."""
    from grants.models import VendorPayment, VendorPaymentStatus

    taken = (
        VendorPayment.objects.filter(
            installment_id=installment.pk,
            status__in=(VendorPaymentStatus.APPROVED, VendorPaymentStatus.SENT, VendorPaymentStatus.PAID),
        )
        .select_related("vendor")
        .first()
    )
    if taken is None:
        return None
    return _(
        "This payment goes to %(vendor)s at the grantee's request (%(reference)s); it cannot also be "
        "paid to the grantee. Cancel that payment first."
    ) % {"vendor": taken.vendor.name, "reference": taken.reference_code}


def payment_key(installment: Installment, disbursement=None) -> str:
    """The idempotency key of a payment's entry: what paid it, not only which installment.

    ``disbursement:<id>:paid`` for a Stripe transfer, ``installment:<pk>:paid:outside`` for a
    check or bank transfer: a check sent after Stripe reversed the transfer is a second payment
    and must post, while a retried webhook or a double click posts once.
    """
    if disbursement is not None:
        return f"disbursement:{disbursement.pk}:paid"
    return f"installment:{installment.pk}:paid:outside"


def _posted_before_keys_named_the_payer(installment: Installment, disbursement) -> JournalEntry | None:
    """An entry posted under the old key ``installment:<pk>:paid`` for this same payer, if any.

    Entries keep their keys forever; a payment confirmed before the keys changed must not post
    again when its webhook is replayed."""
    earlier = JournalEntry.objects.filter(idempotency_key=f"installment:{installment.pk}:paid").first()
    if earlier is not None and earlier.disbursement_id == getattr(disbursement, "pk", None):
        return earlier
    return None


def post_payment(
    installment: Installment, *, by, cash_account: str, reference: str, paid_on=None, amount=None, **links
):
    """Post the ledger entry of a payment of ``installment`` and return it.

    Idempotent per payer (see ``payment_key``): pass ``disbursement=`` for a Stripe transfer.
    ``amount`` defaults to the installment's amount (a check after a partial reversal pays less).
    """
    award = installment.award
    disbursement = links.get("disbursement")
    earlier = _posted_before_keys_named_the_payer(installment, disbursement)
    if earlier is not None:
        return earlier
    amount = amount if amount is not None else installment.amount
    return ledger.post_entry(
        foundation=award.fund.foundation,
        cause=EntryCause.DISBURSEMENT,
        memo=_("Payment %(number)s of award %(reference)s") % {"number": installment.number,
                                                               "reference": award.reference},
        lines=[
            ledger.debit(award.fund, AccountKind.GRANTS_PAYABLE, amount),
            ledger.credit(award.fund, cash_account, amount),
        ],
        by=by,
        award=award,
        reference=reference,
        effective_date=paid_on,
        idempotency_key=payment_key(installment, disbursement),
        **links,
    )  # fmt: skip


def _on_hold_after_reversal(installment: Installment) -> bool:
    """Whether the installment's hold is the one Stripe's reversal put (its latest transition)."""
    last = (
        ActivityEntry.objects.filter(subject_type="installment", subject_id=installment.pk)
        .exclude(to_state="")
        .order_by("-created_at", "-pk")
        .values_list("action", flat=True)
        .first()
    )
    return installment.status == InstallmentStatus.ON_HOLD and last == "payment_reversed"


def still_owed(installment: Installment):
    """What of the installment has not reached the grantee: all of it, less what Stripe paid and kept."""
    disbursement = getattr(installment, "disbursement", None)
    if disbursement is None or disbursement.status not in (
        DisbursementStatus.PAID,
        DisbursementStatus.REVERSED,
    ):
        return installment.amount
    returned = disbursement.amount_reversed or zero(str(disbursement.amount.currency))
    return installment.amount - (disbursement.amount - returned)


@retry_on_deadlock
def record_payment_outside_processor(
    installment: Installment, *, by, paid_on: datetime.date, reference: str
) -> Installment:
    """Record a payment made by check or bank transfer (not through Stripe).

    Finance staff only, never the person who approved the grant; the award must be accepted. A
    payment on hold is refused, except the hold Stripe's reversal put: then finance paying by
    check *is* the decision the hold waits for, and the entry posts what Stripe took back. The
    reference is used once per foundation (``ledger.claim_reference``); a repeat of the same
    payment is harmless.
    """
    reference = (reference or "").strip()
    if not reference:
        raise AwardError(_("Give the check number or bank reference of the payment."))
    with transaction.atomic():
        locked = _lock(installment)
        if locked.status == InstallmentStatus.PAID:
            return locked
        actor = finance_actor(by, locked)
        _check_payable(locked)
        after_reversal = _on_hold_after_reversal(locked)
        if locked.status == InstallmentStatus.ON_HOLD and not after_reversal:
            raise AwardError(_("This payment is on hold: lift the hold first."))
        owed = still_owed(locked)
        if owed.amount <= 0:
            raise AwardError(_("Stripe already paid this installment; nothing is owed."))
        ledger.lock_fund(locked.award.fund)
        ledger.claim_reference(foundation=locked.award.fund.foundation, method=ReferenceMethod.GRANT_PAYMENT,
                               reference=reference, recorded_on=paid_on or timezone.localdate(),
                               installment=locked)  # fmt: skip
        post_payment(locked, by=by, cash_account=AccountKind.BANK_CASH, reference=reference, paid_on=paid_on,
                     amount=owed)  # fmt: skip
        locked.paid_at = timezone.now()
        locked.payment_reference = reference[:120]
        locked.approved_by = by
        locked.approved_at = locked.paid_at
        name = "pay_outside_after_reversal" if after_reversal else "pay_outside_processor"
        transition(locked, name, by=by, actor=actor, note=reference[:120],
                   fields=("paid_at", "payment_reference", "approved_by", "approved_at"))  # fmt: skip
        award = type(locked.award).objects.select_for_update().get(pk=locked.award_id)
        activate_on_first_payment(award, by=by)
    return locked
