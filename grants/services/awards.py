"""Awards: from an approved application to money promised, accepted, amended or released.

Making an award commits its amount in the fund's ledger under a row lock on the fund, so two
officers can never together promise more than the fund holds. Amendments and cancellations
post their own entries; nothing is ever edited in the ledger.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    UNPAID_INSTALLMENT_STATES,
    AccountKind,
    AnswerChannel,
    Application,
    ApplicationStatus,
    Award,
    AwardAmendment,
    AwardStatus,
    EntryCause,
    Installment,
    InstallmentStatus,
    ReportDueDate,
    ReportKind,
)
from grants.money import MoneyTypeError, check_money
from grants.permissions import Capability, can, is_organization_member
from grants.services import ledger
from grants.services.applications import notify_members
from grants.services.errors import DomainError, IllegalTransition
from grants.services.locks import retry_on_deadlock
from grants.services.schedules import add_months, validate_schedule
from grants.services.text_limits import within_limit
from grants.services.workflow import Transition, check_transition, record

GRANTEE = "grantee"
OFFICER = "program_officer"
SYSTEM = "system"
# Staff recording the answer of a group without a login (on paper, by phone, in person).
FOR_GROUP = "staff_for_group"

A = AwardStatus
AWARD_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("accept", (A.OFFERED,), A.ACCEPTED, (GRANTEE, FOR_GROUP)),
        Transition("decline", (A.OFFERED,), A.CANCELLED, (GRANTEE, FOR_GROUP)),
        Transition("activate", (A.ACCEPTED,), A.ACTIVE, (SYSTEM,)),
        Transition("amend", (A.OFFERED, A.ACCEPTED, A.ACTIVE), A.OFFERED, (OFFICER,)),  # target unused
        Transition("complete", (A.ACCEPTED, A.ACTIVE), A.COMPLETED, (OFFICER,)),
        Transition("cancel", (A.OFFERED, A.ACCEPTED, A.ACTIVE), A.CANCELLED, (OFFICER,)),
    )
}


class AwardError(DomainError):
    """An award action was refused (bad terms, wrong state, money in flight...)."""


class AlreadyAwarded(AwardError):
    """The application already has an award; ``award`` is it (a retried "make award" lands here)."""

    def __init__(self, message, award):
        super().__init__(message)
        self.award = award


def is_award_officer(user, award_or_fund) -> bool:
    fund = getattr(award_or_fund, "fund", award_or_fund)
    return can(user, Capability.MANAGE_AWARDS, fund.foundation_id)


def _lock_award(award: Award) -> Award:
    return (
        Award.objects.select_for_update(of=("self",))
        .select_related("fund__foundation", "application")
        .get(pk=award.pk)
    )


def _change_state(award: Award, name: str, *, by, actor: str, note: str = "", fields=()) -> None:
    previous = award.status
    transition = check_transition(AWARD_TRANSITIONS, name, previous, actor, states=AwardStatus)
    award.status = transition.target
    award.save(update_fields=["status", *fields])
    record(subject=award, subject_type="award", action=name, actor=by, foundation=award.fund.foundation,
           from_state=previous, to_state=transition.target, note=note, visible_to_applicant=True)  # fmt: skip


def _check_amount(award_currency: str, amount) -> Money:
    try:
        check_money(amount, currency=award_currency)
    except MoneyTypeError as error:
        raise AwardError(
            _("The amount must be in the fund's currency (%(currency)s), in whole cents.")
            % {"currency": award_currency}
        ) from error
    if amount.amount <= 0:
        raise AwardError(_("The amount must be greater than zero."))
    return amount


def _notify(award: Award, template: str, extra: dict | None = None) -> None:
    notify_members(
        award.application,
        template,
        {"award": award, **(extra or {})},
        link=("award_detail", {"pk": award.pk}),
    )


def make_award(
    application: Application,
    *,
    by,
    amount: Money,
    start_date: datetime.date,
    end_date: datetime.date,
    schedule: list,
    report_dates: list | None = None,
    conditions: str = "",
    translations: dict | None = None,
    agreement: dict | None = None,
) -> Award:
    """Offer an award for an approved application and commit its amount in the fund's ledger.

    ``schedule`` is ``[(due_date, Money), ...]`` summing to ``amount``; ``report_dates`` is
    ``[(ReportKind, date), ...]``; ``agreement`` is the agreement text per language;
    ``translations`` the conditions in the portal's other languages (``{"es": {"conditions": …}}``). Raises
    ``InsufficientFunds`` when the fund cannot cover it (checked under a lock on the fund),
    ``AlreadyAwarded`` when the application has an award (a retry is harmless), ``AwardError``
    for bad terms. The grantee is told by email in their language.
    """
    report_dates = report_dates or []
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("call__fund__foundation")
            .get(pk=application.pk)
        )
        fund = locked.call.fund
        if not is_award_officer(by, fund):
            raise IllegalTransition(_("You are not allowed to do this."))
        existing = Award.objects.filter(application=locked).first()
        if existing is not None:
            raise AlreadyAwarded(_("This application already has an award."), existing)
        if locked.status != ApplicationStatus.APPROVED:
            raise AwardError(_("Only an approved application can receive an award."))
        amount = _check_amount(fund.currency, amount)
        if not start_date or not end_date or end_date < start_date:
            raise AwardError(_("The award must end on or after its start date."))
        schedule = validate_schedule(schedule, amount)
        for kind, due in report_dates:
            if kind not in ReportKind.values or not isinstance(due, datetime.date):
                raise AwardError(_("Every report needs a kind and a due date."))
        if sum(1 for kind, _due in report_dates if kind == ReportKind.FINAL) > 1:
            raise AwardError(_("An award has at most one final report."))
        ledger.lock_fund(fund)
        ledger.require_available(fund, amount)
        award = Award.objects.create(
            application=locked,
            fund=fund,
            amount=amount,
            conditions=conditions.strip(),
            translations=translations or {},
            start_date=start_date,
            end_date=end_date,
            agreement=agreement or {},
            offered_by=by,
        )
        Installment.objects.bulk_create(
            Installment(award=award, number=number, due_date=due, amount=part)
            for number, (due, part) in enumerate(schedule, start=1)
        )
        ReportDueDate.objects.bulk_create(
            ReportDueDate(award=award, kind=kind, due_date=due)
            for kind, due in sorted(report_dates, key=lambda r: r[1])
        )
        ledger.post_entry(
            foundation=fund.foundation,
            cause=EntryCause.AWARD,
            memo=_("Award %(reference)s to %(organization)s")
            % {"reference": award.reference, "organization": locked.organization.name},
            lines=[
                ledger.debit(fund, AccountKind.GRANTS_AWARDED, amount),
                ledger.credit(fund, AccountKind.GRANTS_PAYABLE, amount),
            ],
            by=by,
            award=award,
            idempotency_key=f"award:{award.pk}:commit",
        )
        record(subject=award, subject_type="award", action="offer", actor=by, foundation=fund.foundation,
               to_state=AwardStatus.OFFERED, note=str(amount), visible_to_applicant=True)  # fmt: skip
        record(subject=locked, subject_type="application", action="award_offered", actor=by,
               foundation=fund.foundation, note=str(amount), visible_to_applicant=True)  # fmt: skip
        _notify(award, "award_offered", {"amount": amount})
    return award


def default_terms(application: Application, *, today: datetime.date | None = None) -> dict:
    """Sensible starting terms for the award form: the approved amount, one year from today."""
    today = today or timezone.localdate()
    end = add_months(today, 12) - datetime.timedelta(days=1)
    return {
        "amount": application.award_amount or application.requested_amount,
        "start_date": today,
        "end_date": end,
        "first_due": today,
        "interim_report": add_months(today, 6),
        "final_report": end + datetime.timedelta(days=30),
    }


def accept_award(award: Award, *, by, full_name: str, agreed: bool, language: str) -> Award:
    """The grantee accepts the agreement by typing their full name. A repeat is harmless."""
    full_name = " ".join((full_name or "").split())
    if not is_organization_member(by, award.application.organization_id):
        raise IllegalTransition(_("You are not allowed to do this."))
    if not agreed:
        raise AwardError(_("Tick the box to confirm you have read and accept the agreement."))
    if len(full_name) < 2:
        raise AwardError(_("Type your full name to sign the agreement."))
    limit = Award._meta.get_field("accepted_name").max_length
    if len(full_name) > limit:  # never cut a signature silently
        raise AwardError(
            _("Your name can be at most %(limit)s characters long; shorten it to sign.") % {"limit": limit}
        )
    with transaction.atomic():
        locked = _lock_award(award)
        if locked.status == AwardStatus.ACCEPTED and locked.accepted_by_id == by.pk:
            return locked
        locked.accepted_by = by
        locked.accepted_name = full_name
        locked.accepted_language = language[:8]
        locked.accepted_at = timezone.now()
        _change_state(locked, "accept", by=by, actor=GRANTEE, note=full_name,
                      fields=("accepted_by", "accepted_name", "accepted_language", "accepted_at"))  # fmt: skip
    return locked


def _release(award: Award, amount: Money, *, by, memo: str, key: str) -> None:
    """Give unpaid committed money back to the fund."""
    if amount.amount <= 0:
        return
    ledger.post_entry(
        foundation=award.fund.foundation,
        cause=EntryCause.RELEASE,
        memo=memo,
        lines=[
            ledger.debit(award.fund, AccountKind.GRANTS_PAYABLE, amount),
            ledger.credit(award.fund, AccountKind.GRANTS_AWARDED, amount),
        ],
        by=by,
        award=award,
        idempotency_key=key,
    )


def _cancel_unpaid_installments(award: Award, *, by) -> Money:
    """Cancel what is still to be paid; return its total. Refused while a payment is in flight."""
    installments = list(award.installments.select_for_update().order_by("number"))
    if any(installment.status == InstallmentStatus.APPROVED for installment in installments):
        raise AwardError(_("A payment of this award is being made. Wait until it is paid or has failed."))
    unpaid = [installment for installment in installments if installment.status in UNPAID_INSTALLMENT_STATES]
    total = Money(0, award.fund.currency)
    for installment in unpaid:
        total += installment.amount
        previous = installment.status
        installment.status = InstallmentStatus.CANCELLED
        installment.save(update_fields=["status"])
        record(subject=installment, subject_type="installment", action="cancel", actor=by,
               foundation=award.fund.foundation, from_state=previous, to_state=InstallmentStatus.CANCELLED)  # fmt: skip
    return total


DECLINE_REASON_LENGTH = 2000


def _decline(locked: Award, *, by, actor: str, reason: str, note: str | None = None, fields=()) -> None:
    """Turn the offer down (caller holds the award's lock): the whole amount goes back to the fund."""
    check_transition(AWARD_TRANSITIONS, "decline", locked.status, actor, states=AwardStatus)
    released = _cancel_unpaid_installments(locked, by=by)  # installments before the fund
    ledger.lock_fund(locked.fund)
    _release(locked, released, by=by, memo=_("Award %(reference)s declined by the grantee") % {
        "reference": locked.reference}, key=f"award:{locked.pk}:release")  # fmt: skip
    locked.closed_at = timezone.now()
    locked.closing_note = within_limit(reason, DECLINE_REASON_LENGTH)
    _change_state(locked, "decline", by=by, actor=actor, note=locked.closing_note if note is None else note,
                  fields=("closed_at", "closing_note", *fields))  # fmt: skip


@retry_on_deadlock
def decline_award(award: Award, *, by, reason: str = "") -> Award:
    """The grantee turns the offer down: the whole amount goes back to the fund."""
    if not is_organization_member(by, award.application.organization_id):
        raise IllegalTransition(_("You are not allowed to do this."))
    reason = within_limit(reason, DECLINE_REASON_LENGTH)
    with transaction.atomic():
        locked = _lock_award(award)
        _decline(locked, by=by, actor=GRANTEE, reason=reason)
    return locked


# --- Answers of groups without a login, recorded by staff ----------------------------------

STAFF_CHANNELS = (AnswerChannel.PAPER, AnswerChannel.PHONE, AnswerChannel.IN_PERSON)
ANSWER_FIELDS = ("answered_via", "answered_on", "answered_by_name", "answer_recorded_by",
                 "answer_document", "answer_document_name", "answer_document_type")  # fmt: skip


def may_record_for_group(user, award: Award) -> bool:
    """Whether ``user`` may record the answer of the award's group (its foundation's officers
    and administrators) — the group must also have no login (``telling.has_login``)."""
    return can(user, Capability.RECORD_GROUP_ANSWERS, award.fund.foundation_id)


def _check_group_answer(award: Award, *, by, channel, given_on, given_by: str, document, today) -> str:
    """Refuse a bad answer record; return the document's content type ("" without one)."""
    from grants.services.reports import check_upload
    from grants.services.telling import has_login

    if not may_record_for_group(by, award):
        raise IllegalTransition(_("You are not allowed to do this."))
    if has_login(award.application.organization_id):
        raise AwardError(_("This group has a login: its members answer the offer themselves on the portal."))
    if channel not in STAFF_CHANNELS:
        raise AwardError(_("Say how the group gave its answer: signed paper, by phone or in person."))
    if not isinstance(given_on, datetime.date):
        raise AwardError(_("Give the date the group gave its answer."))
    if given_on > (today or timezone.localdate()):
        raise AwardError(_("The date the group gave its answer cannot be in the future."))
    if given_on < timezone.localtime(award.offered_at).date():
        raise AwardError(_("The group cannot have answered before the award was offered."))
    if len(given_by) < 2:
        raise AwardError(_("Give the name of the person who gave the group's answer."))
    if channel == AnswerChannel.PAPER and document is None:
        raise AwardError(_("Upload the signed paper (a PDF or a photo)."))
    return check_upload(document, error=AwardError, field="document") if document is not None else ""


def _set_group_answer(locked: Award, *, by, channel, given_on, given_by, document, content_type) -> None:
    locked.answered_via = channel
    locked.answered_on = given_on
    locked.answered_by_name = given_by
    locked.answer_recorded_by = by
    if document is not None:
        locked.answer_document_name = document.name[:255]
        locked.answer_document_type = content_type
        locked.answer_document.save(document.name, document, save=False)


def _answer_note(locked: Award, given_by: str, given_on: datetime.date, extra: str = "") -> str:
    note = _("%(how)s, given by %(name)s on %(date)s; recorded by staff for a group without a login.") % {
        "how": AnswerChannel(locked.answered_via).label, "name": given_by, "date": given_on.isoformat()}  # fmt: skip
    return f"{note}\n{extra}" if extra else note


def _record_group_answer(locked: Award, transition: str, *, by, channel, given_on, given_by, document, today):
    """Check the group's answer and the transition, then keep how, when and by whom it was given."""
    content_type = _check_group_answer(locked, by=by, channel=channel, given_on=given_on,
                                       given_by=given_by, document=document, today=today)  # fmt: skip
    check_transition(AWARD_TRANSITIONS, transition, locked.status, FOR_GROUP, states=AwardStatus)
    _set_group_answer(locked, by=by, channel=channel, given_on=given_on, given_by=given_by,
                      document=document, content_type=content_type)  # fmt: skip


def accept_for_group(
    award: Award, *, by, channel: str, given_on: datetime.date, given_by: str, document=None, today=None
) -> Award:
    """Staff record that a group without a login accepted the award (signed paper, by phone or
    in person): the award becomes accepted as by an online acceptance, and the activity log
    names the staff member and the way. A repeat of a recorded acceptance is harmless; anything
    else not offered is refused."""
    given_by = " ".join((given_by or "").split())[:200]
    with transaction.atomic():
        locked = _lock_award(award)
        if locked.status == AwardStatus.ACCEPTED and locked.answered_via in STAFF_CHANNELS:
            return locked
        _record_group_answer(locked, "accept", by=by, channel=channel, given_on=given_on, given_by=given_by,
                             document=document, today=today)  # fmt: skip
        locked.accepted_name = given_by
        locked.accepted_language = locked.application.language[:8]
        locked.accepted_at = timezone.now()
        _change_state(locked, "accept", by=by, actor=FOR_GROUP, note=_answer_note(locked, given_by, given_on),
                      fields=("accepted_name", "accepted_language", "accepted_at", *ANSWER_FIELDS))  # fmt: skip
    return locked


@retry_on_deadlock
def decline_for_group(
    award: Award, *, by, channel: str, given_on: datetime.date, given_by: str, reason: str = "",
    document=None, today=None,
) -> Award:  # fmt: skip
    """Staff record that a group without a login turned the offer down: as ``decline_award``
    (the money goes back to the fund), with how, when and by whom in the activity log. A repeat
    of a recorded decline is harmless."""
    given_by = " ".join((given_by or "").split())[:200]
    with transaction.atomic():
        locked = _lock_award(award)
        if locked.status == AwardStatus.CANCELLED and locked.answered_via in STAFF_CHANNELS:
            return locked
        _record_group_answer(locked, "decline", by=by, channel=channel, given_on=given_on, given_by=given_by,
                             document=document, today=today)  # fmt: skip
        reason = within_limit(reason, DECLINE_REASON_LENGTH)
        _decline(locked, by=by, actor=FOR_GROUP, reason=reason,
                 note=_answer_note(locked, given_by, given_on, reason), fields=ANSWER_FIELDS)  # fmt: skip
    return locked


@retry_on_deadlock
def cancel_award(award: Award, *, by, reason: str) -> Award:
    """Cancel an award: unpaid installments are cancelled and their money goes back to the fund."""
    reason = (reason or "").strip()
    if not reason:
        raise AwardError(_("Say why the award is cancelled; the grantee reads it."))
    if not is_award_officer(by, award):
        raise IllegalTransition(_("You are not allowed to do this."))
    with transaction.atomic():
        locked = _lock_award(award)
        check_transition(AWARD_TRANSITIONS, "cancel", locked.status, OFFICER, states=AwardStatus)
        released = _cancel_unpaid_installments(locked, by=by)  # installments before the fund
        ledger.lock_fund(locked.fund)
        _release(locked, released, by=by, memo=_("Award %(reference)s cancelled: %(reason)s") % {
            "reference": locked.reference, "reason": reason[:200]}, key=f"award:{locked.pk}:release")  # fmt: skip
        locked.closed_at = timezone.now()
        locked.closing_note = reason[:2000]
        _change_state(
            locked, "cancel", by=by, actor=OFFICER, note=reason[:1000], fields=("closed_at", "closing_note")
        )
        _notify(locked, "award_cancelled", {"reason": reason, "released": released})
    return locked


def complete_award(award: Award, *, by, note: str = "") -> Award:
    """Close an award whose payments are all made (or cancelled)."""
    if not is_award_officer(by, award):
        raise IllegalTransition(_("You are not allowed to do this."))
    with transaction.atomic():
        locked = _lock_award(award)
        check_transition(AWARD_TRANSITIONS, "complete", locked.status, OFFICER, states=AwardStatus)
        waiting = locked.installments.exclude(
            status__in=(InstallmentStatus.PAID, InstallmentStatus.CANCELLED)
        )
        if waiting.exists():
            raise AwardError(
                _("%(count)s payments are still to be made. Pay them, or amend the award first.")
                % {"count": waiting.count()}
            )
        locked.closed_at = timezone.now()
        locked.closing_note = (note or "").strip()[:2000]
        _change_state(locked, "complete", by=by, actor=OFFICER, note=locked.closing_note,
                      fields=("closed_at", "closing_note"))  # fmt: skip
    return locked


@retry_on_deadlock
def amend_award(
    award: Award, *, by, new_amount: Money, reason: str, due_date: datetime.date | None = None
) -> Award:
    """Raise or lower the award's amount, with a reason the grantee reads.

    A raise is committed like a new award (refused when the fund cannot cover it) and added to
    the last unpaid payment, or to a new payment due on ``due_date`` (today by default) when
    none is left. A cut is released back to the fund and taken from the last unpaid payments;
    it cannot go below what is paid or being paid.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AwardError(_("Say why the amount changes; the grantee reads it."))
    if not is_award_officer(by, award):
        raise IllegalTransition(_("You are not allowed to do this."))
    with transaction.atomic():
        locked = _lock_award(award)
        check_transition(AWARD_TRANSITIONS, "amend", locked.status, OFFICER, states=AwardStatus)
        new_amount = _check_amount(locked.fund.currency, new_amount)
        previous = locked.amount
        if new_amount == previous:
            raise AwardError(_("The new amount is the same as the current one."))
        # The portal's lock order: award, installments, then the fund (grants/services/locks.py).
        installments = list(locked.installments.select_for_update().order_by("number"))
        ledger.lock_fund(locked.fund)
        unpaid = [i for i in installments if i.status in UNPAID_INSTALLMENT_STATES]
        change = new_amount - previous
        if change.amount > 0:
            ledger.require_available(locked.fund, change)
            if unpaid:
                last = unpaid[-1]
                last.amount += change
                last.save(update_fields=["amount"])
            else:
                Installment.objects.create(
                    award=locked,
                    number=max((i.number for i in installments), default=0) + 1,
                    due_date=due_date or timezone.localdate(),
                    amount=change,
                )
            lines = [ledger.debit(locked.fund, AccountKind.GRANTS_AWARDED, change),
                     ledger.credit(locked.fund, AccountKind.GRANTS_PAYABLE, change)]  # fmt: skip
        else:
            cut = -change
            room = sum((i.amount for i in unpaid), Money(0, locked.fund.currency))
            if cut > room:
                raise AwardError(
                    _("The award cannot go below what is paid or being paid (%(floor)s).")
                    % {"floor": previous - room}
                )
            remaining = cut
            for installment in reversed(unpaid):
                if remaining.amount <= 0:
                    break
                if installment.amount <= remaining:
                    remaining -= installment.amount
                    installment.status = InstallmentStatus.CANCELLED
                    installment.save(update_fields=["status"])
                else:
                    installment.amount -= remaining
                    remaining -= remaining
                    installment.save(update_fields=["amount"])
            lines = [ledger.debit(locked.fund, AccountKind.GRANTS_PAYABLE, cut),
                     ledger.credit(locked.fund, AccountKind.GRANTS_AWARDED, cut)]  # fmt: skip
        amendment = AwardAmendment.objects.create(
            award=locked, previous_amount=previous, new_amount=new_amount, reason=reason[:5000], created_by=by
        )
        ledger.post_entry(
            foundation=locked.fund.foundation,
            cause=EntryCause.AMENDMENT,
            memo=_("Award %(reference)s amended from %(previous)s to %(new)s")
            % {"reference": locked.reference, "previous": previous, "new": new_amount},
            lines=lines,
            by=by,
            award=locked,
            idempotency_key=f"amendment:{amendment.pk}",
        )
        locked.amount = new_amount
        locked.save(update_fields=["amount", "currency"])
        record(subject=locked, subject_type="award", action="amend", actor=by, foundation=locked.fund.foundation,
               from_state=locked.status, to_state=locked.status, note=f"{previous} → {new_amount}: {reason[:500]}",
               visible_to_applicant=True)  # fmt: skip
        _notify(locked, "award_amended", {"previous": previous, "new_amount": new_amount, "reason": reason})
    return locked


def activate_on_first_payment(award: Award, *, by=None) -> None:
    """An accepted award becomes active when its first payment is made (caller holds the lock)."""
    if award.status == AwardStatus.ACCEPTED:
        _change_state(award, "activate", by=by, actor=SYSTEM)


def scheduled_total(award: Award) -> Money:
    """What the award's live installments add up to (equals the award amount unless cancelled)."""
    total = Money(0, award.fund.currency)
    for installment in award.installments.exclude(status=InstallmentStatus.CANCELLED):
        total += installment.amount
    return total


def paid_total(award: Award) -> Money:
    total = Money(0, award.fund.currency)
    for installment in award.installments.filter(status=InstallmentStatus.PAID):
        total += installment.amount
    return total
