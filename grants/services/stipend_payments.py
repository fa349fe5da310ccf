"""Paying an approved month of hotline stipends: one transfer per payee through the payout engine
(``grants.services.disbursements``), and what Stripe then says about those transfers.

Finance staff who did not approve the batch pay it. A volunteer with their own connected account
is paid directly; everyone else through the coordinating organization's account. The batch is
paid once Stripe confirms every one of its transfers.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    PayoutStatus,
    StipendBatch,
    StipendBatchStatus,
    StipendPayment,
)
from grants.money import zero
from grants.permissions import Capability, can
from grants.services import disbursements, ledger
from grants.services.errors import IllegalTransition
from grants.services.locks import retry_on_deadlock
from grants.services.payments import record_money_returned
from grants.services.stipends import (
    FINANCE,
    StipendError,
    lock_batch,
    month_label,
    payee_label,
    transition,
)
from grants.services.workflow import SYSTEM

B = StipendBatchStatus
D = DisbursementStatus


def _require_payer(by, batch: StipendBatch) -> None:
    if not can(by, Capability.PAY_STIPENDS, batch.program.fund.foundation_id):
        raise IllegalTransition(_("Only finance staff of this foundation can pay stipends."))
    if by.pk == batch.approved_by_id:
        raise IllegalTransition(_("You approved these stipends, so another finance officer must pay them."))


def payment_problems(batch: StipendBatch) -> list[str]:
    """Why the batch's payments cannot be sent now (empty: they can). Changes nothing."""
    problems = []
    for payment in batch.payments.select_related("payee__organization", "disbursement"):
        if payment.disbursement and payment.disbursement.status == D.REVERSED:
            problems.append(
                _("Stripe reversed the payment to %(payee)s; it cannot be sent again through Stripe.")
                % {"payee": payee_label(payment.payee)}
            )
        elif payment.payee.payout_status != PayoutStatus.READY:
            problems.append(
                _("%(payee)s cannot receive payments yet: Stripe says “%(status)s”.")
                % {
                    "payee": payee_label(payment.payee),
                    "status": PayoutStatus(payment.payee.payout_status).label,
                }
            )
    return problems


@dataclass
class PayResult:
    """What ``pay_batch`` did: the disbursements of the batch and Stripe's refusals (by payee)."""

    batch: StipendBatch
    disbursements: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # (payee label, message)


@retry_on_deadlock
def _prepare_payments(batch: StipendBatch, *, by) -> tuple[StipendBatch, list[Disbursement]]:
    with transaction.atomic():
        locked = lock_batch(batch)
        _require_payer(by, locked)
        if locked.status == B.PAID:
            return locked, []
        if locked.status != B.APPROVED:
            raise IllegalTransition(
                _("Stipends are paid once approved; these are “%(state)s”.")
                % {"state": locked.get_status_display()}
            )
        problems = payment_problems(locked)
        if problems:
            raise StipendError(" ".join(problems))
        foundation = locked.program.fund.foundation
        to_settle = []
        for payment in locked.payments.select_for_update(of=("self",)).select_related("payee").order_by("pk"):
            disbursement = payment.disbursement
            if disbursement is None:
                disbursement = disbursements.create(
                    foundation=foundation,
                    payee=payment.payee,
                    amount=payment.amount,
                    by=by,
                    transfer_group=f"stipend-batch:{locked.pk}",
                    note=f"stipend-batch:{locked.pk}",
                )
                payment.disbursement = disbursement
                payment.save(update_fields=["disbursement"])
            else:
                disbursement = Disbursement.objects.select_for_update(of=("self",)).get(pk=disbursement.pk)
                if disbursement.status == D.FAILED:
                    disbursements.restart(disbursement, by=by, actor=FINANCE)
            if disbursement.status in (D.PENDING, D.UNKNOWN):
                to_settle.append(disbursement)
    return locked, to_settle


def _confirm(disbursement: Disbursement, transfer) -> bool:
    return record_stipend_transfer_paid(disbursement, transfer_id=transfer.id)


def pay_batch(batch: StipendBatch, *, by) -> PayResult:
    """Send an approved batch's payments: one disbursement (and one Stripe transfer) per payee.

    Finance staff of the foundation who did not approve the batch; every payee must be ready for
    payouts (else refused, naming who is not). A payment already sent is not sent again. One whose
    outcome Stripe left unknown is looked up at Stripe and asked again only with the same key; one
    Stripe refused is sent with its next key. Stripe's refusals (and unknown outcomes) are returned
    in ``failures``. Must not run inside the caller's transaction in production: rows are
    committed before Stripe is called.
    """
    locked, to_settle = _prepare_payments(batch, by=by)
    result = PayResult(batch=locked)
    for disbursement in to_settle:
        if disbursement.status == D.UNKNOWN or disbursement.last_attempt_at is not None:
            attempt = disbursements.settle(disbursement, confirm=_confirm)
        else:
            attempt = disbursements.submit(disbursement)
        if attempt.error is not None or attempt.disbursement.status == D.UNKNOWN:
            result.failures.append((payee_label(disbursement.payee), attempt.message))
    result.disbursements = [
        p.disbursement
        for p in locked.payments.select_related("disbursement").order_by("pk")
        if p.disbursement_id
    ]
    return result


# --- What Stripe tells us (the webhook handler calls these inside its transaction) -----------


def stipend_payment_of(disbursement: Disbursement) -> StipendPayment | None:
    return StipendPayment.objects.select_related("batch").filter(disbursement=disbursement).first()


def _post_paid(disbursement: Disbursement, batch: StipendBatch, transfer_id: str) -> None:
    fund = ledger.lock_fund(batch.program.fund)
    ledger.post_entry(
        foundation=disbursement.foundation,
        cause=EntryCause.STIPEND,
        memo=_("Stipends of %(month)s paid to %(payee)s")
        % {"month": month_label(batch.month), "payee": payee_label(disbursement.payee)},
        lines=[
            ledger.debit(fund, AccountKind.GRANTS_PAYABLE, disbursement.amount),
            ledger.credit(fund, AccountKind.PROCESSOR_CASH, disbursement.amount),
        ],
        reference=transfer_id,
        disbursement=disbursement,
        idempotency_key=f"disbursement:{disbursement.pk}:paid",
    )


def record_stipend_transfer_paid(disbursement: Disbursement, *, transfer_id: str) -> bool:
    """Stripe made the transfer of a stipend payment (``disbursement`` locked by the caller): the
    disbursement is paid, the ledger posts it, and the batch is paid once all its payments are.
    Stripe's word wins over what we believed (pending, unknown, failed); never moves backwards.
    Returns whether anything changed."""
    payment = stipend_payment_of(disbursement)
    if payment is None or disbursement.status not in (*disbursements.OPEN_STATES, D.FAILED):
        return False
    batch = lock_batch(payment.batch)
    disbursements.mark_paid(disbursement, transfer_id=transfer_id)
    _post_paid(disbursement, batch, transfer_id)
    mark_batch_paid_if_complete(batch)
    return True


def record_stipend_transfer_reversed(
    disbursement: Disbursement, *, transfer_id: str, amount_reversed: Money
) -> bool:
    """Stripe took (some of) a stipend transfer back (``disbursement`` locked by the caller): the
    ledger posts the payment if not yet and the money returned; a paid batch is owed again.
    A repeated or older reversal changes nothing. Returns whether anything changed."""
    payment = stipend_payment_of(disbursement)
    already = disbursement.amount_reversed or zero(str(disbursement.amount.currency))
    if payment is None or amount_reversed.amount <= already.amount:
        return False
    batch = lock_batch(payment.batch)
    _post_paid(disbursement, batch, transfer_id)
    fund = ledger.lock_fund(batch.program.fund)
    record_money_returned(
        disbursement,
        fund=fund,
        transfer_id=transfer_id,
        amount_reversed=amount_reversed,
        already=already,
        memo=_("Stipends of %(month)s to %(payee)s reversed by Stripe")
        % {"month": month_label(batch.month), "payee": payee_label(disbursement.payee)},
    )
    if batch.status == B.PAID:
        transition(batch, "payment_reversed", by=None, actor=SYSTEM, note=payee_label(disbursement.payee))
    return True


def mark_batch_paid_if_complete(batch: StipendBatch) -> bool:
    """Mark an approved batch paid when every one of its payments' disbursements is paid.
    Safe to call any number of times; returns whether the batch became paid."""
    with transaction.atomic():
        locked = lock_batch(batch)
        if locked.status != B.APPROVED:
            return False
        statuses = [
            (p.disbursement.status if p.disbursement_id else None)
            for p in locked.payments.select_related("disbursement")
        ]
        if not statuses or any(status != D.PAID for status in statuses):
            return False
        transition(locked, "pay", by=None, actor=SYSTEM)
    return True
