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
from grants.payments.gateway import get_gateway
from grants.permissions import is_organization_member
from grants.services import bonds, disbursements, installments, ledger
from grants.services.awards import activate_on_first_payment
from grants.services.errors import DomainError
from grants.services.locks import retry_on_deadlock
from grants.services.workflow import SYSTEM, record


class PaymentRefused(DomainError):
    """A payment or onboarding action was refused by a rule; ``message`` says why."""


D = DisbursementStatus
PAYMENT_REVERSED = installments.INSTALLMENT_TRANSITIONS["payment_reversed"]
PAY = installments.INSTALLMENT_TRANSITIONS["pay"]


# --- Payee accounts --------------------------------------------------------------------------


def organization_payee(foundation_id: int, organization_id: int) -> PayeeAccount | None:
    """The organization's own connected account at the foundation — never one of its volunteers'
    personal accounts (those carry a pseudonym and are paid only their own stipends)."""
    return PayeeAccount.objects.filter(
        foundation_id=foundation_id, organization_id=organization_id, volunteer_pseudonym=""
    ).first()


def payee_for(award: Award) -> PayeeAccount | None:
    """The connected account the award's payments go to (``None`` until the grantee onboards)."""
    return organization_payee(award.fund.foundation_id, award.application.organization_id)


def has_award_from(organization: Organization, foundation: Foundation) -> bool:
    return Award.objects.filter(application__organization=organization, fund__foundation=foundation).exists()


def may_set_up_payouts(organization: Organization, foundation: Foundation) -> bool:
    """An organization sets up payouts at a foundation once it has an award there, or is one of
    its bond partners (a partner that posts bonds is paid their amount)."""
    return has_award_from(organization, foundation) or bonds.is_partner(organization, foundation)


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
    if not may_set_up_payouts(organization, foundation):
        raise PaymentRefused(_("Payouts are set up once the organization has an award from this foundation."))
    gateway = get_gateway(foundation)
    with transaction.atomic():
        # The organization row serialises two members clicking at once.
        Organization.objects.select_for_update().get(pk=organization.pk)
        payee = organization_payee(foundation.pk, organization.pk)
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
    if status == InstallmentStatus.SCHEDULED and installment.due_date > timezone.localdate():
        return _("This payment is not due until %(date)s.") % {"date": installment.due_date}
    if status == InstallmentStatus.SCHEDULED:
        status = InstallmentStatus.DUE  # its date has come, whether or not the daily job said so
    if status not in (InstallmentStatus.DUE, InstallmentStatus.FAILED):
        return _("This payment cannot be released while it is “%(state)s”.") % {
            "state": InstallmentStatus(status).label
        }
    taken = installments.vendor_payment_problem(installment) if installment.pk else None
    if taken:
        return taken
    existing = getattr(installment, "disbursement", None) if installment.pk else None
    if existing is not None and existing.status == DisbursementStatus.REVERSED:
        return _("Stripe reversed this payment; it cannot be sent again through Stripe.")
    return _payee_problem(installment, payee)


def _lock_installment(installment: Installment) -> Installment:
    """Lock the installment after its award (the portal's lock order, see ``disbursements``)."""
    list(Award.objects.select_for_update().filter(pk=installment.award_id).values_list("pk"))
    return (
        Installment.objects.select_for_update(of=("self",))
        .select_related("award__fund__foundation", "award__application__organization")
        .get(pk=installment.pk)
    )


def _existing(installment: Installment) -> Disbursement | None:
    return Disbursement.objects.select_for_update(of=("self",)).filter(installment=installment).first()


@retry_on_deadlock
def _prepare(installment: Installment, *, by) -> tuple[Disbursement, bool]:
    """Lock, check and record the release; returns the disbursement and whether Stripe must be asked."""
    with transaction.atomic():
        locked = _lock_installment(installment)
        actor = installments.finance_actor(by, locked)
        existing = _existing(locked)
        if locked.status in (InstallmentStatus.APPROVED, InstallmentStatus.PAID) and existing is not None:
            # Double click, or a second officer: the first release stands. One Stripe has not
            # settled (never answered, or answered without saying) is looked up and asked again
            # with the same key.
            return existing, existing.status in (D.PENDING, D.UNKNOWN)
        payee = payee_for(locked.award)
        problem = _problem(locked, payee)
        if problem:
            raise PaymentRefused(problem)
        if existing is None:
            disbursement = disbursements.create(
                foundation=locked.award.fund.foundation,
                award=locked.award,
                installment=locked,
                payee=payee,
                amount=locked.amount,
                by=by,
                transfer_group=f"award:{locked.award_id}",
            )
        else:
            disbursement = existing
            if disbursement.payee_id != payee.pk:
                # Same key generation rules; a new destination needs the new key the failure gave.
                disbursement.payee = payee
                disbursement.save(update_fields=["payee"])
            disbursements.restart(disbursement, by=by, actor=actor, amount=locked.amount)
        if locked.status == InstallmentStatus.SCHEDULED:  # due by its date (``_problem``)
            installments.transition(locked, "become_due", by=None, actor=installments.SYSTEM)
        locked.approved_by = by
        locked.approved_at = timezone.now()
        installments.transition(locked, "approve", by=by, actor=actor, fields=("approved_by", "approved_at"))
    return disbursement, True


def _confirm(disbursement: Disbursement, transfer) -> bool:
    return record_transfer_paid(disbursement, transfer_id=transfer.id)


def release_installment(installment: Installment, *, by) -> Disbursement:
    """Pay ``installment`` to the organization's connected account; returns its disbursement.

    Refused (``IllegalTransition`` or ``PaymentRefused``, with the reason) unless ``by`` is finance
    staff of the foundation who did not approve or make the award, the award is accepted or active,
    the installment is due or failed, and the payee account is ready. Releasing an installment that
    was already released returns its disbursement without asking Stripe again — unless Stripe has
    not settled it: then Stripe is asked what happened first (and asked again with the same key
    only when it has no transfer). When Stripe refuses, the failure is recorded on the
    disbursement, the installment becomes "failed" and the ``PaymentError`` is raised; when Stripe
    does not say (timeout, 5xx, 409), the disbursement's outcome is "unknown" and the
    ``PaymentError`` is raised too. Must not run inside the caller's transaction in production:
    the disbursement must be committed before Stripe is called.
    """
    disbursement, ask_stripe = _prepare(installment, by=by)
    if not ask_stripe:
        return disbursement
    if disbursement.status == D.UNKNOWN or disbursement.last_attempt_at is not None:
        attempt = disbursements.settle(disbursement, confirm=_confirm)
    else:
        attempt = disbursements.submit(disbursement)
    if attempt.error is not None:
        raise attempt.error
    return attempt.disbursement


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
            message = str(error.message)
            if disbursement is not None and disbursement.status == D.UNKNOWN:
                message = disbursements.UNKNOWN_MESSAGE()
            results.append(ReleaseResult(installment, False, message, disbursement))
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
    """Our disbursement of a transfer, locked in the portal's lock order: by the id in its
    metadata, else by the transfer id."""
    rows = Disbursement.objects.filter(foundation=foundation).only("pk")
    found = None
    if disbursement_id and str(disbursement_id).isdigit():
        found = rows.filter(pk=int(disbursement_id)).first()
    if found is None and transfer_id:
        found = rows.filter(stripe_transfer_id=transfer_id).first()
    if found is None:
        return None
    return disbursements.lock(found.pk)


def _post_paid(disbursement: Disbursement, installment: Installment, transfer_id: str) -> None:
    installments.post_payment(installment, by=None, cash_account=AccountKind.PROCESSOR_CASH,
                              reference=transfer_id, disbursement=disbursement)  # fmt: skip


def record_transfer_paid(disbursement: Disbursement, *, transfer_id: str) -> bool:
    """Stripe created the transfer: the disbursement and installment are paid, the ledger posts it.

    ``disbursement`` is locked by the caller. Stripe's word wins over what we believed (pending,
    sent, unknown, even failed); never moves backwards (ignored once paid or reversed). Returns
    whether anything changed.
    """
    if not disbursements.mark_paid(disbursement, transfer_id=transfer_id):
        return False
    installment = _lock_installment(disbursement.installment)
    ledger.lock_fund(installment.award.fund)
    _post_paid(disbursement, installment, transfer_id)
    if installment.status in PAY.sources:
        installment.paid_at = disbursement.paid_at
        installment.payment_reference = transfer_id[:120]
        installments.transition(installment, "pay", by=None, actor=SYSTEM, note=transfer_id,
                                fields=("paid_at", "payment_reference"))  # fmt: skip
    award = Award.objects.select_for_update().get(pk=installment.award_id)
    activate_on_first_payment(award)
    return True


def record_money_returned(
    disbursement, *, fund, transfer_id, amount_reversed, already, memo, award=None,
    cause=EntryCause.DISBURSEMENT_REVERSAL, key_prefix: str = "", **links,
) -> None:  # fmt: skip
    """Stripe took (more of) a transfer back: post the newly returned part to the fund (cash at the
    processor up, the commitment owed again) and mark the disbursement reversed. The caller holds
    the locks; the entry's key makes a repeated event harmless."""
    returned = amount_reversed - already
    ledger.post_entry(
        foundation=disbursement.foundation,
        cause=cause,
        memo=memo,
        lines=[
            ledger.debit(fund, AccountKind.PROCESSOR_CASH, returned),
            ledger.credit(fund, AccountKind.GRANTS_PAYABLE, returned),
        ],
        award=award,
        reference=transfer_id,
        disbursement=disbursement,
        idempotency_key=f"{key_prefix or f'disbursement:{disbursement.pk}'}:reversed:{amount_reversed.amount}",
        **links,
    )
    disbursement.amount_reversed = amount_reversed
    disbursement.stripe_transfer_id = disbursement.stripe_transfer_id or transfer_id
    disbursement.reversed_at = timezone.now()
    fields = ["amount_reversed", "reversed_currency", "stripe_transfer_id", "reversed_at"]
    if disbursement.status == D.REVERSED:
        disbursement.save(update_fields=fields)
    else:
        disbursements.move(disbursement, "reverse", note=str(amount_reversed), fields=fields)


def record_transfer_reversed(disbursement: Disbursement, *, transfer_id: str, amount_reversed: Money) -> bool:
    """Stripe took (some of) the transfer back: the money is in the foundation's Stripe balance again.

    ``disbursement`` is locked by the caller. The ledger posts the payment (if the confirmation has
    not arrived yet: events come in any order) and a DISBURSEMENT_REVERSAL of what came back; the
    installment goes on hold ("payment reversed") for finance to decide. Returns whether anything
    changed (an older or repeated reversal changes nothing).
    """
    already = disbursement.amount_reversed or zero(str(disbursement.amount.currency))
    if amount_reversed.amount <= already.amount:
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
