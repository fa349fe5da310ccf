"""Report reminders and the payments held while a report is overdue (run daily).

For each report due date of an accepted or active award whose report is not with the officers
(not submitted, resubmitted or accepted), the organization's members are emailed, each in their
own language:

* 7 days before the due date ("before"),
* on the due date ("due"),
* once it is overdue ("overdue"): the first on the day after the due date (or the first run
  after it), then at most once every 7 days until the report is submitted.

A due date never gets two reminders on one day (``ReportReminder`` is unique per due date and
day, and the due date's row is locked while deciding), so running the task twice is harmless.

When the call holds payments for overdue reports (``hold_payments_for_overdue_reports``), the
award's next unpaid installment (scheduled, due or failed) goes on hold with a reason the
grantee reads, linked to the due date (``held_for_report``); accepting the report lifts it
(``grants.services.reports.accept_report``). One installment per overdue due date: if finance
lifts that hold by hand, it is not placed again.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from grants.models import Installment, InstallmentStatus, ReminderKind, ReportDueDate, ReportReminder
from grants.services import installments
from grants.services.applications import notify_members
from grants.services.reports import REPORTING_AWARD_STATES, SUBMITTED_STATES, SYSTEM, report_link

BEFORE_DAYS = 7
OVERDUE_INTERVAL_DAYS = 7
HOLDABLE_STATES = (InstallmentStatus.SCHEDULED, InstallmentStatus.DUE, InstallmentStatus.FAILED)


def reminder_kind(due: ReportDueDate, today: datetime.date) -> str | None:
    """Which reminder ``due`` calls for today, ignoring those already sent (None: no reminder)."""
    days = (due.due_date - today).days
    if days == BEFORE_DAYS:
        return ReminderKind.BEFORE
    if days == 0:
        return ReminderKind.DUE
    if days < 0:
        last = (
            ReportReminder.objects.filter(due=due, kind=ReminderKind.OVERDUE)
            .order_by("-sent_on")
            .values_list("sent_on", flat=True)
            .first()
        )
        if last is None or (today - last).days >= OVERDUE_INTERVAL_DAYS:
            return ReminderKind.OVERDUE
    return None


def _waiting(due: ReportDueDate) -> bool:
    report = getattr(due, "report", None)  # the reverse one-to-one raises when missing
    return report is None or report.status not in SUBMITTED_STATES


def hold_for_overdue_report(due: ReportDueDate, *, today: datetime.date) -> Installment | None:
    """Hold the award's next unpaid installment while ``due``'s report is overdue (caller locks
    ``due``). Returns the installment put on hold, or None (call says no, nothing to hold, or
    an installment was already held for this report)."""
    award = due.award
    if not award.application.call.hold_payments_for_overdue_reports:
        return None
    if Installment.objects.filter(held_for_report=due).exists():
        return None
    installment = award.installments.filter(status__in=HOLDABLE_STATES).order_by("due_date", "number").first()
    if installment is None:
        return None
    with translation.override(award.application.language or None):
        reason = _(
            "The %(report)s due on %(date)s is overdue: this payment is held until it is accepted."
        ) % {
            "report": str(due.get_kind_display()).lower(),
            "date": formats.date_format(due.due_date),
        }
    held = installments.hold_installment(installment, by=None, reason=reason, actor=SYSTEM)
    Installment.objects.filter(pk=held.pk).update(held_for_report=due)
    held.held_for_report = due
    return held


def remind(due_id: int, *, today: datetime.date) -> bool:
    """Send ``due``'s reminder for today if one is called for; hold a payment if overdue."""
    with transaction.atomic():
        due = (
            ReportDueDate.objects.select_for_update(of=("self",))
            .select_related("award__application__call", "award__fund__foundation")
            .get(pk=due_id)
        )
        if due.award.status not in REPORTING_AWARD_STATES or not _waiting(due):
            return False
        held = hold_for_overdue_report(due, today=today) if due.due_date < today else None
        kind = reminder_kind(due, today)
        if kind is None or ReportReminder.objects.filter(due=due, sent_on=today).exists():
            return False
        try:
            with transaction.atomic():
                ReportReminder.objects.create(due=due, kind=kind, sent_on=today)
        except IntegrityError:  # another worker sent today's reminder first
            return False
        notify_members(
            due.award.application,
            f"report_reminder_{kind}",
            {"award": due.award, "due": due, "days_overdue": (today - due.due_date).days, "held": held},
            link=report_link(due),
        )
    return True


def send_report_reminders(*, today: datetime.date | None = None) -> int:
    """Send today's report reminders and hold payments of overdue reports (daily; safe to
    repeat). Returns how many reminders were sent."""
    today = today or timezone.localdate()
    candidates = (
        ReportDueDate.objects.filter(award__status__in=REPORTING_AWARD_STATES)
        .filter(due_date__in=[today + datetime.timedelta(days=BEFORE_DAYS), today]) |
        ReportDueDate.objects.filter(award__status__in=REPORTING_AWARD_STATES, due_date__lt=today)
    ).exclude(report__status__in=SUBMITTED_STATES)  # fmt: skip
    return sum(
        remind(pk, today=today) for pk in candidates.values_list("pk", flat=True).order_by("due_date", "pk")
    )
