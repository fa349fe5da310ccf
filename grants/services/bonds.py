"""Bond funds: partners ask for bonds, officers decide on a clock, finance posts them and records
how they end. A bond is money lent, not spent (docs/decisions.md "Bond accounting").

The ledger, per fund (every entry linked to its bond, every step idempotent):

- posted:   debit *bonds outstanding*, credit cash (bank cash for a wire or ACH the foundation
            recorded; processor cash when the partner obligor was paid through Stripe)
- returned: debit bank cash (principal + interest), credit *bonds outstanding* (principal) and
            *bond interest* (income)
- lost:     debit *grants awarded* (the loss is a grant), credit *bonds outstanding*

So ``bonds out + available + granted`` equals what the fund received (less fees and refunds,
plus grant money returned) after any sequence; a bond's own figures are the sums of the lines of
its entries (``figures``), never counters.

States (``BOND_TRANSITIONS``): requested → approved | declined | withdrawn; approved → posted
(foundation obligor) or sending → posted (partner obligor, through the payout engine);
posted → refund expected (cancelled) → returned; posted | refund expected → breached. A partial
outcome is a refund of less than the principal, the rest written off with its reason.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    BOND_OUT_STATES,
    BOND_SETTLED_STATES,
    AccountKind,
    Bond,
    BondPartner,
    BondStatus,
    BondUrgency,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    Foundation,
    Fund,
    FundingCall,
    FundStatus,
    JournalEntry,
    JournalLine,
    Obligor,
    Organization,
    PayoutStatus,
    PostingMethod,
    ProgramType,
)
from grants.models.ledger import normalise_reference
from grants.money import ExactSum, check_money, zero
from grants.permissions import Capability, can, is_organization_member
from grants.services import ledger, page_cache
from grants.services.errors import DomainError
from grants.services.workflow import SYSTEM, Transition, check_transition, record

B = BondStatus
PARTNER, OFFICER, FINANCE = "partner", "officer", "finance"

BOND_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("approve", (B.REQUESTED,), B.APPROVED, (OFFICER,)),
        Transition("decline", (B.REQUESTED, B.APPROVED), B.DECLINED, (OFFICER,)),
        Transition("withdraw", (B.REQUESTED, B.APPROVED), B.WITHDRAWN, (PARTNER,)),
        Transition("send", (B.APPROVED,), B.SENDING, (FINANCE,)),
        Transition("transfer_failed", (B.SENDING,), B.APPROVED, (SYSTEM,)),
        Transition("post", (B.APPROVED, B.SENDING), B.POSTED, (FINANCE, SYSTEM)),
        Transition("cancel", (B.POSTED,), B.REFUND_EXPECTED, (FINANCE,)),
        Transition("return", (B.POSTED, B.REFUND_EXPECTED), B.RETURNED, (FINANCE,)),
        Transition("breach", (B.POSTED, B.REFUND_EXPECTED), B.BREACHED, (FINANCE,)),
    )
}

# How long an officer has to decide, by urgency, when the call sets no target.
DECISION_HOURS = {BondUrgency.TODAY: 4, BondUrgency.DAYS: 24, BondUrgency.WEEK: 72}


class BondRefused(DomainError):
    """A bond action was refused by a rule; ``message`` says why."""


# --- Moving between states --------------------------------------------------------------------


def _lock(bond: Bond) -> Bond:
    return (
        Bond.objects.select_for_update(of=("self",))
        .select_related("fund", "foundation", "partner")
        .get(pk=bond.pk)
    )


def _move(bond: Bond, name: str, *, by, actor: str, note: str = "", fields=()) -> None:
    previous = bond.status
    target = check_transition(BOND_TRANSITIONS, name, previous, actor, states=BondStatus).target
    bond.status = target
    bond.save(update_fields=["status", *fields])
    record(subject=bond, subject_type="bond", action=name, actor=by, foundation=bond.foundation,
           from_state=previous, to_state=target, note=note[:500],
           visible_to_applicant=name in ("approve", "decline", "post", "return", "breach"))  # fmt: skip


def _require(by, capability: Capability, bond_or_foundation) -> None:
    foundation_id = getattr(bond_or_foundation, "foundation_id", None) or bond_or_foundation.pk
    if not can(by, capability, foundation_id):
        raise BondRefused(_("You are not allowed to do this."))


def _validated(bond: Bond, fields) -> None:
    """Run the model's validators (no A-numbers, lengths) and raise one ``BondRefused``."""
    try:
        bond.full_clean(exclude=[f.name for f in Bond._meta.fields if f.name not in fields])
    except ValidationError as error:
        messages = [str(message) for messages in error.message_dict.values() for message in messages]
        raise BondRefused(" ".join(dict.fromkeys(messages))) from error


# --- Telling people -----------------------------------------------------------------------------


def _partner_url(bond: Bond) -> str:
    return f"/organizations/{bond.partner_id}/bonds/"


def _staff_url(bond: Bond) -> str:
    return f"/admin/bonds/{bond.pk}/"


def tell_partner(bond: Bond, template: str) -> None:
    """Email every member of the partner in their own language, after commit (no reference)."""
    from grants.services.notifications import send_templated_email

    for membership in bond.partner.memberships.select_related("user"):
        user = membership.user
        if not user.is_active or not user.email:
            continue
        language = user.preferred_language or settings.LANGUAGE_CODE
        send_templated_email(
            template,
            to=[user.email],
            language=language,
            context={"bond": bond, "foundation": bond.foundation, "user": user,
                     "url": f"/{language}{_partner_url(bond)}"},
        )  # fmt: skip


def tell_deciders(bond: Bond) -> None:
    """A request is waiting: email the foundation's officers (its decision is on a clock)."""
    from grants.models import StaffMembership
    from grants.permissions import roles_with
    from grants.services.notifications import send_templated_email

    staff = StaffMembership.objects.filter(
        foundation=bond.foundation, role__in=roles_with(Capability.DECIDE_BONDS)
    ).select_related("user")
    for user in {membership.user for membership in staff}:
        if not user.is_active or not user.email:
            continue
        send_templated_email(
            "bond_requested",
            to=[user.email],
            language=user.preferred_language or settings.LANGUAGE_CODE,
            context={"bond": bond, "foundation": bond.foundation, "user": user, "url": _staff_url(bond)},
        )


# --- Partners ----------------------------------------------------------------------------------


def is_partner(organization: Organization | int, foundation: Foundation | int) -> bool:
    return BondPartner.objects.filter(
        organization_id=getattr(organization, "pk", organization),
        foundation_id=getattr(foundation, "pk", foundation),
    ).exists()


def add_partner(*, foundation: Foundation, organization: Organization, by) -> BondPartner:
    """Mark ``organization`` as a bond partner of ``foundation`` (officers; once)."""
    _require(by, Capability.DECIDE_BONDS, foundation)
    partner, created = BondPartner.objects.get_or_create(
        foundation=foundation, organization=organization, defaults={"added_by": by}
    )
    if created:
        record(subject=partner, subject_type="bond_partner", action="add_partner", actor=by,
               foundation=foundation, note=organization.name[:200])  # fmt: skip
    return partner


def remove_partner(partner: BondPartner, *, by) -> None:
    """Stop taking bond requests from an organization (its bonds stay as they are)."""
    _require(by, Capability.DECIDE_BONDS, partner.foundation)
    record(subject=partner, subject_type="bond_partner", action="remove_partner", actor=by,
           foundation=partner.foundation, note=partner.organization.name[:200])  # fmt: skip
    partner.delete()


def bond_funds_for(organization: Organization):
    """The active bond funds of the foundations where ``organization`` is a partner."""
    foundation_ids = BondPartner.objects.filter(organization=organization).values("foundation_id")
    return Fund.objects.filter(
        foundation_id__in=foundation_ids, program_type=ProgramType.BOND_FUND, status=FundStatus.ACTIVE
    ).select_related("foundation")


# --- Requests and decisions --------------------------------------------------------------------


def decision_due(*, urgency: str, call: FundingCall | None, now: datetime.datetime) -> datetime.datetime:
    hours = (call.decision_target_hours if call is not None else None) or DECISION_HOURS[urgency]
    return now + datetime.timedelta(hours=hours)


def request_bond(
    *,
    partner: Organization,
    fund: Fund,
    by,
    label: str,
    facility: str,
    urgency: str,
    amount: Money,
    obligor: str,
    notes: str = "",
    call: FundingCall | None = None,
    award=None,
    now: datetime.datetime | None = None,
) -> Bond:
    """A partner's member asks the fund for a bond. Refused (``BondRefused``) unless ``by`` is a
    member of a partner of the fund's foundation, the fund is an active bond fund (and the call,
    if any, one of its open calls), the amount is positive in the fund's currency, and no text
    holds an A-number."""
    if not is_organization_member(by, partner.pk):
        raise BondRefused(_("Only members of the organization can ask for a bond."))
    if not is_partner(partner, fund.foundation_id):
        raise BondRefused(_("Your organization is not a bond partner of this foundation."))
    if fund.program_type != ProgramType.BOND_FUND or fund.status != FundStatus.ACTIVE:
        raise BondRefused(_("This fund does not post bonds."))
    if call is not None and (call.fund_id != fund.pk or not call.is_open()):
        raise BondRefused(_("This call is not open."))
    if award is not None and (
        award.application.organization_id != partner.pk or award.fund.foundation_id != fund.foundation_id
    ):
        raise BondRefused(_("This award is not your organization's."))
    if urgency not in BondUrgency.values:
        raise BondRefused(_("Say how urgent the bond is."))
    if obligor not in Obligor.values:
        raise BondRefused(_("Say who posts the bond."))
    amount = _positive(fund, amount)
    now = now or timezone.now()
    bond = Bond(
        foundation=fund.foundation, fund=fund, partner=partner, call=call, award=award,
        label=(label or "").strip(), facility=(facility or "").strip(), urgency=urgency, amount=amount,
        obligor=obligor, notes=(notes or "").strip(), requested_by=by,
        decision_due_at=decision_due(urgency=urgency, call=call, now=now),
    )  # fmt: skip
    _validated(bond, ("label", "facility", "notes", "amount"))
    with transaction.atomic():
        bond.save()
        record(subject=bond, subject_type="bond", action="request", actor=by, foundation=bond.foundation,
               to_state=bond.status, visible_to_applicant=True)  # fmt: skip
        tell_deciders(bond)
    return bond


def _positive(fund: Fund, amount) -> Money:
    if not isinstance(amount, Money) or str(amount.currency) != fund.currency:
        raise BondRefused(
            _("The amount must be in the fund's currency (%(currency)s).") % {"currency": fund.currency}
        )
    check_money(amount, currency=fund.currency)
    if amount.amount <= 0:
        raise BondRefused(_("The amount must be greater than zero."))
    return amount


def withdraw(bond: Bond, *, by) -> Bond:
    if not is_organization_member(by, bond.partner_id):
        raise BondRefused(_("Only members of the organization can withdraw its request."))
    with transaction.atomic():
        locked = _lock(bond)
        if locked.status == B.WITHDRAWN:
            return locked
        _move(locked, "withdraw", by=by, actor=PARTNER)
    return locked


def approve(bond: Bond, *, by, note: str = "") -> Bond:
    """An officer approves the request. The fund must have the money available now (it is checked
    again when the bond is posted); approving twice is a no-op."""
    _require(by, Capability.DECIDE_BONDS, bond)
    with transaction.atomic():
        locked = _lock(bond)
        if locked.status == B.APPROVED:
            return locked
        ledger.lock_fund(locked.fund)
        try:
            ledger.require_available(locked.fund, locked.amount)
        except ledger.InsufficientFunds as error:
            raise BondRefused(error.message) from error
        locked.decided_by, locked.decided_at = by, timezone.now()
        _move(locked, "approve", by=by, actor=OFFICER, note=note, fields=("decided_by", "decided_at"))
        tell_partner(locked, "bond_approved")
    return locked


def decline(bond: Bond, *, by, reason: str) -> Bond:
    _require(by, Capability.DECIDE_BONDS, bond)
    reason = (reason or "").strip()
    if not reason:
        raise BondRefused(_("Say why the request is declined; the partner reads it."))
    if len(reason) > 500:
        raise BondRefused(_("Keep the reason under 500 characters."))
    with transaction.atomic():
        locked = _lock(bond)
        if locked.status == B.DECLINED:
            return locked
        locked.decline_reason, locked.decided_by, locked.decided_at = reason, by, timezone.now()
        _move(locked, "decline", by=by, actor=OFFICER, note=reason,
              fields=("decline_reason", "decided_by", "decided_at"))  # fmt: skip
        tell_partner(locked, "bond_declined")
    return locked


# --- Posting ------------------------------------------------------------------------------------


def _check_reference(by, bond: Bond, reference: str) -> str:
    reference = " ".join((reference or "").split())
    if reference and not can(by, Capability.READ_BOND_REFERENCES, bond.foundation_id):
        raise BondRefused(_("Only finance staff can enter a bond's reference."))
    if len(reference) > 120:
        raise BondRefused(_("Keep the reference under 120 characters."))
    return reference


def _four_eyes(by, bond: Bond) -> None:
    if bond.decided_by_id == getattr(by, "pk", None):
        raise BondRefused(_("Someone other than the person who approved the bond must post it."))


def _move_money(
    bond: Bond, cause: str, memo: str, *, into: str, out_of: str, amount: Money, key: str, **kwargs
):
    """One two-line entry of the bond's fund: ``amount`` debited to ``into``, credited to ``out_of``."""
    return ledger.post_entry(
        foundation=bond.foundation,
        cause=cause,
        memo=memo,
        lines=[ledger.debit(bond.fund, into, amount), ledger.credit(bond.fund, out_of, amount)],
        bond=bond,
        idempotency_key=f"bond:{bond.pk}:{key}",
        **kwargs,
    )


def post_entry_for(bond: Bond, *, by, cash_account: str, posted_on: datetime.date, disbursement=None):
    """The ledger entry of a bond going out (once per bond)."""
    return _move_money(
        bond, EntryCause.BOND_POSTED, _("Bond %(reference)s posted") % {"reference": bond.reference_code},
        into=AccountKind.BONDS_OUTSTANDING, out_of=cash_account, amount=bond.amount, key="post",
        by=by, effective_date=posted_on, disbursement=disbursement,
    )  # fmt: skip


def post_bond(
    bond: Bond, *, by, method: str, posted_on: datetime.date | None = None, reference: str = ""
) -> Bond:
    """Finance records a bond the foundation posted (wire or ACH), or sends the money to the partner
    obligor through Stripe (``method="transfer"``; the bond is posted when Stripe confirms).

    Refused unless ``by`` manages bonds, did not approve it, the bond is approved, the method fits
    the obligor and the fund has the money available. Posting again is a no-op.
    """
    _require(by, Capability.MANAGE_BONDS, bond)
    if method not in PostingMethod.values:
        raise BondRefused(_("Say how the money went out."))
    reference = _check_reference(by, bond, reference)
    posted_on = posted_on or timezone.localdate()
    if posted_on > timezone.localdate():
        raise BondRefused(_("The date cannot be in the future."))
    with transaction.atomic():
        locked = _lock(bond)
        if locked.status in (B.POSTED, B.SENDING, *BOND_OUT_STATES, *BOND_SETTLED_STATES):
            return locked
        _four_eyes(by, locked)
        if (method == PostingMethod.TRANSFER) != (locked.obligor == Obligor.PARTNER):
            raise BondRefused(
                _(
                    "A bond the partner posts is paid to the partner through Stripe; one the foundation "
                    "posts is recorded as a wire or ACH."
                )  # fmt: skip
            )
        check_transition(BOND_TRANSITIONS, "post", locked.status, FINANCE, states=BondStatus)
        ledger.lock_fund(locked.fund)
        try:
            ledger.require_available(locked.fund, locked.amount)
        except ledger.InsufficientFunds as error:
            raise BondRefused(error.message) from error
        locked.posting_method = method
        if reference:
            locked.reference = reference
        if method == PostingMethod.TRANSFER:
            disbursement = _partner_disbursement(locked, by=by)
            _move(locked, "send", by=by, actor=FINANCE, fields=("posting_method", "reference"))
        else:
            locked.posted_on, locked.posted_by = posted_on, by
            post_entry_for(locked, by=by, cash_account=AccountKind.BANK_CASH, posted_on=posted_on)
            _move(locked, "post", by=by, actor=FINANCE,
                  fields=("posting_method", "reference", "posted_on", "posted_by"))  # fmt: skip
            disbursement = None
    page_cache.invalidate_public_pages()
    if disbursement is not None:
        _submit(disbursement)
        locked.refresh_from_db()
    return locked


def _partner_disbursement(bond: Bond, *, by) -> Disbursement:
    from grants.services import disbursements, payments

    payee = payments.organization_payee(bond.foundation_id, bond.partner_id)
    if payee is None or payee.payout_status != PayoutStatus.READY:
        raise BondRefused(
            _("The partner's payout account is not ready; it sets it up from its payouts page.")
        )
    disbursement = Disbursement.objects.filter(bond=bond).first()
    if disbursement is not None:
        return disbursement
    disbursement = disbursements.create(
        foundation=bond.foundation, payee=payee, amount=bond.amount, by=by,
        transfer_group=f"bond-{bond.pk}", note=bond.reference_code,
    )  # fmt: skip
    disbursement.bond = bond
    disbursement.save(update_fields=["bond"])
    return disbursement


def _submit(disbursement: Disbursement):
    from grants.services import disbursements

    if disbursement.status == DisbursementStatus.UNKNOWN or disbursement.last_attempt_at is not None:
        from grants.services import payouts

        attempt = payouts.settle(disbursement)
    else:
        attempt = disbursements.submit(disbursement)
    if attempt.error is not None and not attempt.error.outcome_unknown:
        raise BondRefused(attempt.message)
    return attempt


def resend(bond: Bond, *, by) -> Bond:
    """Send the partner's transfer again after Stripe refused it (the engine's next key), or ask
    Stripe what happened to one whose outcome is unknown."""
    from grants.services import disbursements

    _require(by, Capability.MANAGE_BONDS, bond)
    disbursement = Disbursement.objects.filter(bond=bond).first()
    if disbursement is None:
        raise BondRefused(_("No transfer was sent for this bond."))
    with transaction.atomic():
        locked = _lock(bond)
        _four_eyes(by, locked)
        locked_disbursement = disbursements.lock(disbursement)
        if locked_disbursement.status == DisbursementStatus.FAILED:
            if locked.status == B.APPROVED:
                _move(locked, "send", by=by, actor=FINANCE)
            disbursements.restart(locked_disbursement, by=by, actor=disbursements.FINANCE)
    _submit(Disbursement.objects.get(pk=disbursement.pk))
    locked.refresh_from_db()
    return locked


def record_transfer_paid(disbursement: Disbursement, *, transfer_id: str) -> bool:
    """Stripe made the transfer to the partner obligor (called under the disbursement's lock)."""
    from grants.services import disbursements

    bond = _lock(disbursement.bond)
    changed = disbursements.mark_paid(disbursement, transfer_id=transfer_id)
    if bond.status in (B.SENDING, B.APPROVED):
        bond.posted_on = timezone.localdate()
        post_entry_for(bond, by=None, cash_account=AccountKind.PROCESSOR_CASH, posted_on=bond.posted_on,
                       disbursement=disbursement)  # fmt: skip
        _move(bond, "post", by=None, actor=SYSTEM, note=transfer_id, fields=("posted_on",))
        changed = True
        page_cache.invalidate_public_pages()
    return changed


def record_transfer_failed(disbursement: Disbursement, *, note: str) -> None:
    """Stripe refused the partner's transfer: the bond is approved again, to be sent again."""
    bond = _lock(disbursement.bond)
    if bond.status == B.SENDING:
        _move(bond, "transfer_failed", by=None, actor=SYSTEM, note=note)


def record_transfer_reversed(disbursement: Disbursement, *, transfer_id: str, amount_reversed: Money) -> bool:
    """Stripe reversed a transfer to the partner: the bond's money is back in the processor's cash
    (only what was reversed, once per reversal amount)."""
    from grants.services import disbursements

    bond = _lock(disbursement.bond)
    previous = disbursement.amount_reversed or zero(disbursement.amount.currency)
    if amount_reversed <= previous:
        return False
    difference = amount_reversed - previous
    outstanding = figures(bond).outstanding
    back = min(difference, outstanding)
    if back.amount > 0:
        _move_money(
            bond, EntryCause.BOND_RETURNED,
            _("Transfer for bond %(reference)s reversed by Stripe") % {"reference": bond.reference_code},
            into=AccountKind.PROCESSOR_CASH, out_of=AccountKind.BONDS_OUTSTANDING, amount=back,
            key=f"transfer-reversed:{amount_reversed.amount}", by=None, disbursement=disbursement,
        )  # fmt: skip
    disbursement.amount_reversed = amount_reversed
    disbursement.reversed_at = timezone.now()
    fields = ("amount_reversed", "reversed_currency", "reversed_at")
    if disbursement.status == DisbursementStatus.REVERSED:  # a second, larger reversal
        disbursement.save(update_fields=fields)
    else:
        disbursements.move(disbursement, "reverse", note=transfer_id, fields=fields)
    if figures(bond).outstanding.amount == 0 and bond.status in BOND_OUT_STATES:
        bond.settled_on = timezone.localdate()
        _move(bond, "return", by=None, actor=FINANCE, note=transfer_id, fields=("settled_on",))
    return True


# --- How a bond ends ------------------------------------------------------------------------------


def record_cancellation(bond: Bond, *, by, cancelled_on: datetime.date) -> Bond:
    """The case ended with every appearance made: the bond is cancelled and its refund expected."""
    _require(by, Capability.MANAGE_BONDS, bond)
    if cancelled_on > timezone.localdate():
        raise BondRefused(_("The date cannot be in the future."))
    with transaction.atomic():
        locked = _lock(bond)
        if locked.status == B.REFUND_EXPECTED:
            return locked
        if locked.posted_on and cancelled_on < locked.posted_on:
            raise BondRefused(_("A bond cannot be cancelled before it was posted."))
        locked.cancelled_on = cancelled_on
        _move(locked, "cancel", by=by, actor=FINANCE, fields=("cancelled_on",))
    return locked


def record_refund(
    bond: Bond,
    *,
    by,
    received_on: datetime.date,
    principal: Money,
    interest: Money | None = None,
    receipt: str,
    write_off_rest: bool = False,
    reason: str = "",
) -> Bond:
    """Record money back from a bond: ``principal`` (up to what is still out) and ``interest``
    (income), received on ``received_on`` with the check or bank ``receipt`` reference. The same
    receipt recorded twice counts once. When the principal is all back the bond is returned; with
    ``write_off_rest`` the rest is written off as a grant (``reason`` required) and the bond is
    returned with a loss — a partial outcome."""
    _require(by, Capability.MANAGE_BONDS, bond)
    interest = interest if interest is not None else zero(bond.fund.currency)
    receipt = " ".join((receipt or "").split())
    if not receipt:
        raise BondRefused(_("Give the check number or bank reference of the refund."))
    if received_on > timezone.localdate():
        raise BondRefused(_("The date cannot be in the future."))
    for value in (principal, interest):
        if not isinstance(value, Money) or str(value.currency) != bond.fund.currency:
            raise BondRefused(_("The amount must be in the fund's currency (%(currency)s).") % {
                "currency": bond.fund.currency})  # fmt: skip
        check_money(value, currency=bond.fund.currency)
        if value.amount < 0:
            raise BondRefused(_("Amounts cannot be negative."))
    if principal.amount == 0 and interest.amount == 0 and not write_off_rest:
        raise BondRefused(_("Enter the amount received."))
    key = f"bond:{bond.pk}:refund:{normalise_reference(receipt)[:60]}"
    with transaction.atomic():
        locked = _lock(bond)
        ledger.lock_fund(locked.fund)
        earlier = JournalEntry.objects.filter(idempotency_key=key).exists()
        if earlier:
            return locked
        if locked.status not in BOND_OUT_STATES:
            check_transition(BOND_TRANSITIONS, "return", locked.status, FINANCE, states=BondStatus)
        outstanding = figures(locked).outstanding
        if principal > outstanding:
            raise BondRefused(
                _("Only %(outstanding)s of this bond is still out; record the rest as interest.")
                % {"outstanding": outstanding}
            )
        if principal.amount or interest.amount:
            lines = [ledger.debit(locked.fund, AccountKind.BANK_CASH, principal + interest)]
            if principal.amount:
                lines.append(ledger.credit(locked.fund, AccountKind.BONDS_OUTSTANDING, principal))
            if interest.amount:
                lines.append(ledger.credit(locked.fund, AccountKind.BOND_INTEREST, interest))
            ledger.post_entry(
                foundation=locked.foundation, cause=EntryCause.BOND_RETURNED,
                memo=_("Refund of bond %(reference)s") % {"reference": locked.reference_code},
                lines=lines, by=by, effective_date=received_on, reference=receipt, bond=locked,
                idempotency_key=key,
            )  # fmt: skip
        rest = outstanding - principal
        if rest.amount and write_off_rest:
            _write_off(locked, rest, by=by, reason=reason, on=received_on)
            rest = zero(locked.fund.currency)
        if rest.amount == 0:
            locked.settled_on = received_on
            _move(
                locked, "return", by=by, actor=FINANCE, note=receipt, fields=("settled_on", "breach_reason")
            )
        else:
            record(subject=locked, subject_type="bond", action="partial_refund", actor=by,
                   foundation=locked.foundation, note=str(principal))  # fmt: skip
    page_cache.invalidate_public_pages()
    return locked


def _write_off(bond: Bond, amount: Money, *, by, reason: str, on: datetime.date) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise BondRefused(_("Say why the money is lost."))
    if len(reason) > 500:
        raise BondRefused(_("Keep the reason under 500 characters."))
    bond.breach_reason = reason
    _move_money(
        bond, EntryCause.BOND_WRITE_OFF,
        _("Loss on bond %(reference)s: %(reason)s") % {"reference": bond.reference_code, "reason": reason},
        into=AccountKind.GRANTS_AWARDED, out_of=AccountKind.BONDS_OUTSTANDING, amount=amount, key="write-off",
        by=by, effective_date=on,
    )  # fmt: skip


def record_breach(bond: Bond, *, by, reason: str, breached_on: datetime.date) -> Bond:
    """The bond was breached: what is still out is lost and written off as a grant, with the reason."""
    _require(by, Capability.MANAGE_BONDS, bond)
    if breached_on > timezone.localdate():
        raise BondRefused(_("The date cannot be in the future."))
    with transaction.atomic():
        locked = _lock(bond)
        if locked.status == B.BREACHED:
            return locked
        check_transition(BOND_TRANSITIONS, "breach", locked.status, FINANCE, states=BondStatus)
        ledger.lock_fund(locked.fund)
        outstanding = figures(locked).outstanding
        if outstanding.amount:
            _write_off(locked, outstanding, by=by, reason=reason, on=breached_on)
        else:
            locked.breach_reason = (reason or "").strip()[:500]
        locked.settled_on = breached_on
        _move(locked, "breach", by=by, actor=FINANCE, note=locked.breach_reason,
              fields=("settled_on", "breach_reason"))  # fmt: skip
    page_cache.invalidate_public_pages()
    return locked


def set_reference(bond: Bond, *, by, reference: str) -> Bond:
    """Finance enters or corrects the government's bond reference (encrypted at rest)."""
    if not can(by, Capability.READ_BOND_REFERENCES, bond.foundation_id):
        raise BondRefused(_("Only finance staff can enter a bond's reference."))
    reference = _check_reference(by, bond, reference)
    with transaction.atomic():
        locked = _lock(bond)
        if locked.reference_purged_at is not None:
            raise BondRefused(_("This bond's reference was erased by the retention rules."))
        locked.reference = reference
        locked.save(update_fields=["reference"])
        record(subject=locked, subject_type="bond", action="set_reference", actor=by,
               foundation=locked.foundation)  # fmt: skip
    return locked


def reference_for(bond: Bond, user) -> str | None:
    """The bond's reference for ``user``: the text for finance staff, ``None`` for anyone else."""
    if not can(user, Capability.READ_BOND_REFERENCES, bond.foundation_id):
        return None
    return bond.reference


# --- Figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BondFigures:
    posted: Money
    returned: Money
    interest: Money
    written_off: Money

    @property
    def outstanding(self) -> Money:
        return self.posted - self.returned - self.written_off


def _figures_from(currency: str, rows) -> BondFigures:
    sums = {"posted": Decimal(0), "returned": Decimal(0), "interest": Decimal(0), "written_off": Decimal(0)}
    for cause, kind, total in rows:
        total = Decimal(total or 0)
        if kind == AccountKind.BOND_INTEREST:
            sums["interest"] += -total
        elif kind != AccountKind.BONDS_OUTSTANDING:
            continue
        elif total > 0:
            sums["posted"] += total
        elif cause == EntryCause.BOND_WRITE_OFF:
            sums["written_off"] += -total
        else:
            sums["returned"] += -total
    return BondFigures(**{name: Money(value, currency) for name, value in sums.items()})


def _lines_of(bond_ids, lines=None):
    return (
        (JournalLine.objects.all() if lines is None else lines)
        .filter(entry__bond_id__in=bond_ids)
        .values_list("entry__bond_id", "entry__cause", "account__kind")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )


def figures(bond: Bond) -> BondFigures:
    """What the bond has out, got back, earned and lost: sums of its journal lines."""
    rows = [(cause, kind, total) for _bond, cause, kind, total in _lines_of([bond.pk])]
    return _figures_from(bond.fund.currency if bond.fund_id else bond.currency, rows)


def figures_for(bonds, *, lines=None) -> dict[int, BondFigures]:
    """``figures`` of several bonds in one query; ``lines`` (a ``JournalLine`` queryset, e.g. a
    period's) limits the sums to those lines."""
    bonds = list(bonds)
    rows: dict[int, list] = {bond.pk: [] for bond in bonds}
    for bond_id, cause, kind, total in _lines_of(list(rows), lines):
        rows[bond_id].append((cause, kind, total))
    return {bond.pk: _figures_from(str(bond.amount.currency), rows[bond.pk]) for bond in bonds}


# --- Revolving capacity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Revolving:
    """How a bond fund's money revolves: counts and sums of bonds by how they ended."""

    currency: str
    posted_count: int
    posted_total: Money
    out_count: int
    out_total: Money
    returned_count: int
    returned_total: Money
    lost_count: int
    lost_total: Money
    average_days_out: int | None
    received: Money

    @property
    def times_lent(self) -> Decimal | None:
        """How many times each dollar the fund received has been lent on a bond."""
        if not self.received.amount:
            return None
        return (self.posted_total.amount / self.received.amount).quantize(Decimal("0.01"))


def revolving(fund: Fund) -> Revolving:
    bonds = list(Bond.objects.filter(fund=fund).exclude(posted_on=None))
    numbers = figures_for(bonds)
    currency = fund.currency
    nothing = zero(currency)
    out = [b for b in bonds if b.status in BOND_OUT_STATES]
    returned = [b for b in bonds if b.status == B.RETURNED]
    lost = [b for b in bonds if numbers[b.pk].written_off.amount > 0]
    days = [(b.settled_on - b.posted_on).days for b in bonds if b.settled_on and b.posted_on]
    return Revolving(
        currency=currency,
        posted_count=len(bonds),
        posted_total=sum((numbers[b.pk].posted for b in bonds), nothing),
        out_count=len(out),
        out_total=sum((numbers[b.pk].outstanding for b in out), nothing),
        returned_count=len(returned),
        returned_total=sum((numbers[b.pk].returned for b in bonds), nothing),
        lost_count=len(lost),
        lost_total=sum((numbers[b.pk].written_off for b in bonds), nothing),
        average_days_out=round(sum(days) / len(days)) if days else None,
        received=ledger.balances(fund).received,
    )


# --- Reminders and retention -------------------------------------------------------------------


def bonds_to_check(*, now: datetime.datetime | None = None, foundation: Foundation | None = None):
    """Bonds out longer than their foundation's period, not reminded of within that period."""
    now = now or timezone.now()
    rows = Bond.objects.filter(status__in=BOND_OUT_STATES).select_related("foundation", "fund", "partner")
    if foundation is not None:
        rows = rows.filter(foundation=foundation)
    due = []
    for bond in rows.order_by("posted_on", "pk"):
        period = datetime.timedelta(days=bond.foundation.check_bonds_after_days)
        since = bond.posted_on or bond.requested_at.date()
        if timezone.localdate(now) - since < period:
            continue
        if bond.last_reminded_at is not None and now - bond.last_reminded_at < period:
            continue
        due.append(bond)
    return due


def send_check_reminders(*, now: datetime.datetime | None = None) -> int:
    """Email each foundation's finance staff about its bonds to check on (``manage.py run_daily``)."""
    from grants.models import StaffMembership
    from grants.permissions import roles_with
    from grants.services.notifications import send_templated_email

    now = now or timezone.now()
    by_foundation: dict[int, list[Bond]] = {}
    for bond in bonds_to_check(now=now):
        by_foundation.setdefault(bond.foundation_id, []).append(bond)
    for bonds in by_foundation.values():
        foundation = bonds[0].foundation
        staff = StaffMembership.objects.filter(
            foundation=foundation, role__in=roles_with(Capability.MANAGE_BONDS)
        ).select_related("user")
        for membership in staff:
            user = membership.user
            if not user.is_active or not user.email:
                continue
            send_templated_email(
                "bond_check_reminder",
                to=[user.email],
                language=user.preferred_language or settings.LANGUAGE_CODE,
                context={"foundation": foundation, "bonds": bonds, "user": user},
            )
        Bond.objects.filter(pk__in=[b.pk for b in bonds]).update(last_reminded_at=now)
    return sum(len(bonds) for bonds in by_foundation.values())


def purge_settled_references(
    *,
    now: datetime.datetime | None = None,
    foundation: Foundation | None = None,
    today: datetime.date | None = None,
) -> int:
    """Erase the government reference of bonds settled longer ago than the foundation's period
    (counted to ``today``, by default ``now``'s day); only ``foundation``'s when given. Returns
    how many were erased; a reference erased by a concurrent run is not counted twice."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    count = 0
    rows = Bond.objects.filter(status__in=BOND_SETTLED_STATES, reference_purged_at=None).exclude(
        Q(settled_on=None)
    )
    if foundation is not None:
        rows = rows.filter(foundation=foundation)
    for bond in rows.select_related("foundation"):
        period = datetime.timedelta(days=bond.foundation.purge_bond_references_after_days)
        if today - bond.settled_on < period:
            continue
        with transaction.atomic():
            locked = Bond.objects.select_for_update().get(pk=bond.pk)
            if locked.reference_purged_at is not None:
                continue  # erased by a concurrent run
            locked.reference = ""
            locked.reference_purged_at = now
            locked.save(update_fields=["reference", "reference_purged_at"])
            record(subject=locked, subject_type="bond", action="purge_reference", actor=None,
                   foundation=bond.foundation)  # fmt: skip
        count += 1
    return count
