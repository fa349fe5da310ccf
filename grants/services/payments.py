"""Paying grantees through Stripe Connect: onboarding, releasing installments, Stripe's answers.

Money leaves only through ``release_installment``: finance staff who did not approve the grant
release a due (or failed) installment of an accepted award to the organization's connected
account once it is ready. One ``Disbursement`` per installment, ever, and every transfer request
carries its ``disbursement:<id>`` idempotency key, so double clicks, retries after a timeout and
two officers at once all end in exactly one transfer.

The transfer is requested after the disbursement row is committed: a crash in between leaves a
pending disbursement that the next release resubmits with the same key. Stripe's webhooks
(``grants.payments.webhooks``) then confirm (``record_transfer_paid``) or reverse
(``record_transfer_reversed``) the payment, and the ledger follows.
"""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Award,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    Foundation,
    Installment,
    InstallmentStatus,
    Organization,
    PayeeAccount,
    PayoutStatus,
)
from grants.money import zero
from grants.payments.gateway import PaymentError, get_gateway
from grants.permissions import is_organization_member
from grants.services import installments, ledger
from grants.services.awards import activate_on_first_payment
from grants.services.errors import DomainError
from grants.services.workflow import SYSTEM, Transition, check_transition, record


class PaymentRefused(DomainError):
    """A payment or onboarding action was refused by a rule; ``message`` says why."""


D = DisbursementStatus
DISBURSEMENT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("submit", (D.PENDING,), D.SUBMITTED, (SYSTEM,)),
        Transition("retry", (D.FAILED,), D.PENDING, (installments.FINANCE,)),
        Transition("fail", (D.PENDING,), D.FAILED, (SYSTEM,)),
        Transition("confirm", (D.PENDING, D.SUBMITTED), D.PAID, (SYSTEM,)),
        Transition("reverse", (D.PENDING, D.SUBMITTED, D.PAID), D.REVERSED, (SYSTEM,)),
    )
}

PAYMENT_REVERSED = installments.INSTALLMENT_TRANSITIONS["payment_reversed"]
# Failures Stripe answered (and would replay for the same key): the next attempt gets a new key.
ANSWERED_FAILURES = (
    "card_declined",
    "insufficient_balance",
    "invalid_request",
    "api",
    "idempotency_conflict",
)


def _move(disbursement: Disbursement, name: str, *, by=None, actor: str = SYSTEM, note: str = "", fields=()):
    previous = disbursement.status
    target = check_transition(
        DISBURSEMENT_TRANSITIONS, name, previous, actor, states=DisbursementStatus
    ).target
    disbursement.status = target
    disbursement.save(update_fields=["status", *fields])
    record(subject=disbursement, subject_type="disbursement", action=name, actor=by,
           foundation=disbursement.foundation, from_state=previous, to_state=target, note=note[:500])  # fmt: skip


# --- Payee accounts --------------------------------------------------------------------------


def payee_for(award: Award) -> PayeeAccount | None:
    """The connected account the award's payments go to (``None`` until the grantee onboards)."""
    return PayeeAccount.objects.filter(
        foundation_id=award.fund.foundation_id, organization_id=award.application.organization_id
    ).first()


def has_award_from(organization: Organization, foundation: Foundation) -> bool:
    return Award.objects.filter(application__organization=organization, fund__foundation=foundation).exists()


def payout_page_path(foundation: Foundation, organization: Organization) -> str:
    return reverse("payouts", kwargs={"foundation_slug": foundation.slug, "organization_id": organization.pk})


def start_onboarding(*, organization: Organization, foundation: Foundation, by, return_url: str = "") -> str:
    """Create the organization's connected account at ``foundation`` (once) and return the URL of
    Stripe's hosted onboarding for it.

    Only a member of the organization, and only when it has an award from the foundation.
    ``return_url`` (absolute, for real Stripe) is where Stripe sends the grantee back; it defaults
    to the payout page's path. Calling it again reuses the account and gives a fresh link.
    """
    if not is_organization_member(by, organization.pk):
        raise PaymentRefused(_("Only members of the organization can set up its payouts."))
    if not has_award_from(organization, foundation):
        raise PaymentRefused(_("Payouts are set up once the organization has an award from this foundation."))
    gateway = get_gateway(foundation)
    with transaction.atomic():
        # The organization row serialises two members clicking at once.
        Organization.objects.select_for_update().get(pk=organization.pk)
        payee = PayeeAccount.objects.filter(foundation=foundation, organization=organization).first()
        if payee is None:
            account = gateway.create_connected_account(
                email=by.email,
                metadata={"organization": organization.pk, "foundation": foundation.pk},
                idempotency_key=f"payee:{foundation.pk}:{organization.pk}",
            )
            payee = PayeeAccount.objects.create(
                foundation=foundation,
                organization=organization,
                stripe_account_id=account.id,
                payout_status=PayoutStatus.PENDING,
                requirements_due=list(account.requirements_due),
                created_by=by,
            )
            record(subject=payee, subject_type="payee_account", action="create", actor=by,
                   foundation=foundation, to_state=payee.payout_status)  # fmt: skip
    return_url = return_url or payout_page_path(foundation, organization)
    return gateway.create_onboarding_link(
        account_id=payee.stripe_account_id, refresh_url=return_url, return_url=return_url
    )


def update_payee_status(payee: PayeeAccount, *, status: str, requirements_due, event_created: int) -> bool:
    """Apply an ``account.updated`` event; an event older than the last one applied is ignored.

    Returns whether anything was applied.
    """
    with transaction.atomic():
        locked = PayeeAccount.objects.select_for_update().get(pk=payee.pk)
        if event_created < locked.status_event_created:
            return False
        previous = locked.payout_status
        locked.payout_status = status
        locked.requirements_due = list(requirements_due)
        locked.status_event_created = event_created
        locked.save(update_fields=["payout_status", "requirements_due", "status_event_created", "updated_at"])
        if previous != status:
            record(subject=locked, subject_type="payee_account", action="status", actor=None,
                   foundation=locked.foundation, from_state=previous, to_state=status)  # fmt: skip
    return True


# --- Releasing installments ------------------------------------------------------------------


def _payee_problem(installment: Installment, payee: PayeeAccount | None) -> str | None:
    name = installment.award.application.organization.name
    if payee is None:
        return _("%(organization)s has not set up payouts with Stripe yet.") % {"organization": name}
    if payee.payout_status != PayoutStatus.READY:
        return _("%(organization)s cannot receive payments yet: Stripe says “%(status)s”.") % {
            "organization": name,
            "status": PayoutStatus(payee.payout_status).label,
        }
    return None


def _problem(installment: Installment, payee: PayeeAccount | None) -> str | None:
    """Why ``installment`` cannot be released now (``None``: it can). Caller checked the person."""
    if installment.award.status not in installments.PAYABLE_AWARD_STATES:
        return _("Payments start once the grantee has accepted the award.")
    status = installment.status
    if status == InstallmentStatus.ON_HOLD:
        return _("This payment is on hold (%(reason)s): lift the hold first.") % {
            "reason": installment.hold_reason
        }
    if status == InstallmentStatus.SCHEDULED:
        return _("This payment is not due until %(date)s.") % {"date": installment.due_date}
    if status not in (InstallmentStatus.DUE, InstallmentStatus.FAILED):
        return _("This payment cannot be released while it is “%(state)s”.") % {
            "state": InstallmentStatus(status).label
        }
    existing = getattr(installment, "disbursement", None) if installment.pk else None
    if existing is not None and existing.status == DisbursementStatus.REVERSED:
        return _("Stripe reversed this payment; it cannot be sent again through Stripe.")
    return _payee_problem(installment, payee)


def _lock_installment(installment: Installment) -> Installment:
    return (
        Installment.objects.select_for_update(of=("self",))
        .select_related("award__fund__foundation", "award__application__organization")
        .get(pk=installment.pk)
    )


def _existing(installment: Installment) -> Disbursement | None:
    return Disbursement.objects.select_for_update().filter(installment=installment).first()


def _prepare(installment: Installment, *, by) -> tuple[Disbursement, bool]:
    """Lock, check and record the release; returns the disbursement and whether Stripe must be asked."""
    with transaction.atomic():
        locked = _lock_installment(installment)
        actor = installments.finance_actor(by, locked)
        existing = _existing(locked)
        if locked.status in (InstallmentStatus.APPROVED, InstallmentStatus.PAID) and existing is not None:
            # Double click, or a second officer: the first release stands. A pending one was
            # never answered by Stripe (crash, timeout): ask again with the same key.
            return existing, existing.status == DisbursementStatus.PENDING
        payee = payee_for(locked.award)
        problem = _problem(locked, payee)
        if problem:
            raise PaymentRefused(problem)
        ledger.lock_fund(locked.award.fund)
        if existing is None:
            disbursement = Disbursement.objects.create(
                foundation=locked.award.fund.foundation,
                award=locked.award,
                installment=locked,
                payee=payee,
                amount=locked.amount,
                released_by=by,
            )
            record(subject=disbursement, subject_type="disbursement", action="release", actor=by,
                   foundation=disbursement.foundation, to_state=disbursement.status)  # fmt: skip
        else:
            disbursement = existing
            disbursement.amount = locked.amount
            disbursement.released_by = by
            disbursement.failure_kind = disbursement.failure_message = ""
            _move(disbursement, "retry", by=by, actor=actor,
                  fields=("amount", "currency", "released_by", "failure_kind", "failure_message"))  # fmt: skip
        locked.approved_by = by
        locked.approved_at = timezone.now()
        installments.transition(locked, "approve", by=by, actor=actor, fields=("approved_by", "approved_at"))
    return disbursement, True


def _submit(disbursement: Disbursement) -> Disbursement:
    """Ask Stripe for the transfer (outside any lock) and record the answer."""
    with transaction.atomic():
        Disbursement.objects.filter(pk=disbursement.pk).select_for_update().update(
            attempts=disbursement.attempts + 1
        )
    payee = disbursement.payee
    try:
        transfer = get_gateway(disbursement.foundation).create_transfer(
            amount=disbursement.amount,
            destination=payee.stripe_account_id,
            transfer_group=disbursement.transfer_group,
            metadata={
                "disbursement": disbursement.pk,
                "installment": disbursement.installment_id,
                "award": disbursement.award_id,
            },
            idempotency_key=disbursement.idempotency_key,
        )
    except PaymentError as error:
        _record_failure(disbursement, error)
        raise
    with transaction.atomic():
        locked = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
        fields = []
        if not locked.stripe_transfer_id:
            locked.stripe_transfer_id = transfer.id
            locked.submitted_at = timezone.now()
            fields += ["stripe_transfer_id", "submitted_at"]
        if locked.status == DisbursementStatus.PENDING:
            # The webhook may already have confirmed it (it can arrive before this answer).
            _move(locked, "submit", note=transfer.id, fields=fields)
        elif fields:
            locked.save(update_fields=fields)
    return locked


def _record_failure(disbursement: Disbursement, error: PaymentError) -> None:
    with transaction.atomic():
        installment = _lock_installment(disbursement.installment)  # first, as a release does
        locked = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
        if locked.status != DisbursementStatus.PENDING:
            return
        locked.failure_kind = error.kind
        locked.failure_message = str(error.message)[:500]
        fields = ["failure_kind", "failure_message"]
        if error.kind in ANSWERED_FAILURES:
            locked.key_generation += 1
            fields.append("key_generation")
        _move(locked, "fail", note=error.kind, fields=fields)
        if installment.status == InstallmentStatus.APPROVED:
            installments.transition(installment, "fail", by=None, actor=SYSTEM, note=locked.failure_message)


def release_installment(installment: Installment, *, by) -> Disbursement:
    """Pay ``installment`` to the organization's connected account; returns its disbursement.

    Refused (``IllegalTransition`` or ``PaymentRefused``, with the reason) unless ``by`` is finance
    staff of the foundation who did not approve or make the award, the award is accepted or active,
    the installment is due or failed, and the payee account is ready. Releasing an installment that
    was already released returns its disbursement without asking Stripe again (unless Stripe never
    answered, then it asks again with the same key). When Stripe refuses, the failure is recorded
    on the disbursement and the installment becomes "failed" (a later release retries with the
    same key), then the ``PaymentError`` is raised. Must not run inside the caller's transaction
    in production: the disbursement must be committed before Stripe is called.
    """
    disbursement, ask_stripe = _prepare(installment, by=by)
    if not ask_stripe:
        return disbursement
    return _submit(disbursement)


@dataclass(frozen=True)
class ReleaseResult:
    installment: Installment
    ok: bool
    message: str = ""
    disbursement: Disbursement | None = None


def release_installments(installment_list, *, by) -> list[ReleaseResult]:
    """Release each installment in turn (see ``release_installment``); one refusal stops no other."""
    results = []
    for installment in installment_list:
        try:
            disbursement = release_installment(installment, by=by)
        except DomainError as error:
            disbursement = Disbursement.objects.filter(installment=installment).first()
            results.append(ReleaseResult(installment, False, str(error.message), disbursement))
        else:
            results.append(ReleaseResult(installment, True, "", disbursement))
    return results


@dataclass(frozen=True)
class PreviewRow:
    installment: Installment
    payee: PayeeAccount | None
    amount: Money
    problem: str | None


def release_preview(installment_list, *, by) -> tuple[list[PreviewRow], dict[str, Money]]:
    """What a release would do, for the confirmation step: one row per installment (payee, amount,
    the reason it would be refused or ``None``) and the total per currency of the releasable ones.
    Changes nothing.
    """
    rows, totals = [], {}
    pks = [installment.pk for installment in installment_list]
    fresh = Installment.objects.select_related(
        "award__fund__foundation", "award__application__organization", "disbursement"
    ).in_bulk(pks)
    for installment in (fresh[pk] for pk in pks):
        payee = payee_for(installment.award)
        try:
            installments.finance_actor(by, installment)
            problem = _problem(installment, payee)
        except DomainError as error:
            problem = str(error.message)
        rows.append(PreviewRow(installment, payee, installment.amount, problem))
        if problem is None:
            currency = str(installment.amount.currency)
            totals[currency] = totals.get(currency, zero(currency)) + installment.amount
    return rows, totals


# --- What Stripe tells us (called by the webhook handlers, inside their transaction) ---------


def find_disbursement(
    foundation: Foundation, *, disbursement_id=None, transfer_id: str = ""
) -> Disbursement | None:
    """Our disbursement of a transfer, locked: by the id in its metadata, else by the transfer id.

    Locks in the order a release does (its installment, then the disbursement), so a Stripe
    event and a finance officer's release of the same payment queue up instead of deadlocking.
    """
    rows = Disbursement.objects.filter(foundation=foundation).only("pk", "installment_id")
    found = None
    if disbursement_id and str(disbursement_id).isdigit():
        found = rows.filter(pk=int(disbursement_id)).first()
    if found is None and transfer_id:
        found = rows.filter(stripe_transfer_id=transfer_id).first()
    if found is None:
        return None
    if found.installment_id is not None:
        list(Installment.objects.select_for_update().filter(pk=found.installment_id).values_list("pk"))
    return Disbursement.objects.select_for_update().filter(pk=found.pk).first()


def transfer_mismatch(
    disbursement: Disbursement, *, amount: Money, destination: str, transfer_id: str
) -> str:
    """Why a transfer Stripe reports cannot be ours ("" when it matches)."""
    if amount != disbursement.amount:
        return f"amount {amount} != {disbursement.amount}"
    if destination != disbursement.payee.stripe_account_id:
        return f"destination {destination} != {disbursement.payee.stripe_account_id}"
    if disbursement.stripe_transfer_id and transfer_id != disbursement.stripe_transfer_id:
        return f"transfer {transfer_id} != {disbursement.stripe_transfer_id}"
    return ""


def _post_paid(disbursement: Disbursement, installment: Installment, transfer_id: str) -> None:
    installments.post_payment(installment, by=None, cash_account=AccountKind.PROCESSOR_CASH,
                              reference=transfer_id, disbursement=disbursement)  # fmt: skip


def record_transfer_paid(disbursement: Disbursement, *, transfer_id: str) -> bool:
    """Stripe created the transfer: the disbursement and installment are paid, the ledger posts it.

    ``disbursement`` is locked by the caller. Never moves backwards (ignored once paid or
    reversed). Returns whether anything changed.
    """
    if disbursement.status not in (D.PENDING, D.SUBMITTED):
        return False
    now = timezone.now()
    disbursement.stripe_transfer_id = disbursement.stripe_transfer_id or transfer_id
    disbursement.submitted_at = disbursement.submitted_at or now
    disbursement.paid_at = now
    _move(disbursement, "confirm", note=transfer_id, fields=("stripe_transfer_id", "submitted_at", "paid_at"))
    installment = _lock_installment(disbursement.installment)
    ledger.lock_fund(installment.award.fund)
    _post_paid(disbursement, installment, transfer_id)
    if installment.status == InstallmentStatus.APPROVED:
        installment.paid_at = now
        installment.payment_reference = transfer_id[:120]
        installments.transition(installment, "pay", by=None, actor=SYSTEM, note=transfer_id,
                                fields=("paid_at", "payment_reference"))  # fmt: skip
    award = Award.objects.select_for_update().get(pk=installment.award_id)
    activate_on_first_payment(award)
    return True


def record_money_returned(
    disbursement, *, fund, transfer_id, amount_reversed, already, memo, award=None
) -> None:
    """Stripe took (more of) a transfer back: post the newly returned part to the fund (cash at the
    processor up, the commitment owed again) and mark the disbursement reversed. The caller holds
    the locks; the entry's key makes a repeated event harmless."""
    returned = amount_reversed - already
    ledger.post_entry(
        foundation=disbursement.foundation,
        cause=EntryCause.DISBURSEMENT_REVERSAL,
        memo=memo,
        lines=[
            ledger.debit(fund, AccountKind.PROCESSOR_CASH, returned),
            ledger.credit(fund, AccountKind.GRANTS_PAYABLE, returned),
        ],
        award=award,
        reference=transfer_id,
        disbursement=disbursement,
        idempotency_key=f"disbursement:{disbursement.pk}:reversed:{amount_reversed.amount}",
    )
    disbursement.amount_reversed = amount_reversed
    disbursement.stripe_transfer_id = disbursement.stripe_transfer_id or transfer_id
    disbursement.reversed_at = timezone.now()
    fields = ["amount_reversed", "reversed_currency", "stripe_transfer_id", "reversed_at"]
    if disbursement.status == D.REVERSED:
        disbursement.save(update_fields=fields)
    else:
        _move(disbursement, "reverse", note=str(amount_reversed), fields=fields)


def record_transfer_reversed(disbursement: Disbursement, *, transfer_id: str, amount_reversed: Money) -> bool:
    """Stripe took (some of) the transfer back: the money is in the foundation's Stripe balance again.

    ``disbursement`` is locked by the caller. The ledger posts the payment (if the confirmation has
    not arrived yet: events come in any order) and a DISBURSEMENT_REVERSAL of what came back; the
    installment goes on hold ("payment reversed") for finance to decide. Returns whether anything
    changed (an older or repeated reversal changes nothing).
    """
    already = disbursement.amount_reversed or zero(str(disbursement.amount.currency))
    if amount_reversed.amount <= already.amount or disbursement.status == D.FAILED:
        return False
    installment = _lock_installment(disbursement.installment)
    fund = ledger.lock_fund(installment.award.fund)
    _post_paid(disbursement, installment, transfer_id)
    record_money_returned(
        disbursement, fund=fund, transfer_id=transfer_id, amount_reversed=amount_reversed, already=already,
        memo=_("Payment %(number)s of award %(reference)s reversed by Stripe")
        % {"number": installment.number, "reference": installment.award.reference},
        award=installment.award,
    )  # fmt: skip
    if installment.status in PAYMENT_REVERSED.sources:
        installment.hold_reason = _("payment reversed")
        installments.transition(installment, PAYMENT_REVERSED.name, by=None, actor=SYSTEM,
                                note=installment.hold_reason, fields=("hold_reason",))  # fmt: skip
    return True
