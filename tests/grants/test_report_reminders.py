"""Report reminders (7 days before, on the day, weekly once overdue) and payments held meanwhile."""

import pytest
from django.core import mail

from grants.models import InstallmentStatus, ReportKind, ReportReminder
from grants.services import installments, report_reminders, reports
from grants.tasks import send_report_reminders_task
from tests.grants.money_fixtures import usd
from tests.grants.report_helpers import METRICS, D, reporting_award, spend

TWO_PAYMENTS = [(D(2026, 2, 1), usd(2500)), (D(2026, 9, 1), usd(2500))]
INTERIM_DUE = D(2026, 8, 1)  # the final report is due 2027-03-01


def _run(day) -> int:
    return report_reminders.send_report_reminders(today=day)


def _kinds():
    return list(ReportReminder.objects.order_by("sent_on").values_list("sent_on", "kind"))


def test_reminders_before_on_the_day_and_weekly_once_overdue(world):
    reporting_award(world)
    sent = {day: _run(D(2026, 7, day)) for day in range(20, 32)}
    sent |= {D(2026, 8, day): _run(D(2026, 8, day)) for day in range(1, 17)}
    assert _kinds() == [
        (D(2026, 7, 25), "before"),
        (D(2026, 8, 1), "due"),
        (D(2026, 8, 2), "overdue"),
        (D(2026, 8, 9), "overdue"),
        (D(2026, 8, 16), "overdue"),
    ]
    assert sum(sent.values()) == 5


def test_a_missed_day_is_caught_up_but_never_twice_a_day(world, django_capture_on_commit_callbacks):
    reporting_award(world)
    with django_capture_on_commit_callbacks(execute=True):
        assert _run(D(2026, 8, 5)) == 1, "the first run after the due date sends the first overdue reminder"
        assert _run(D(2026, 8, 5)) == 0, "a second run the same day sends nothing"
    assert len(mail.outbox) == 1
    assert _run(D(2026, 8, 11)) == 0
    assert _run(D(2026, 8, 12)) == 1


def test_no_reminder_once_submitted(world):
    award = reporting_award(world)
    report = reports.report_for(award.report_due_dates.get(kind=ReportKind.INTERIM), by=world["grantee"])
    spend(report, world, 500)
    report = reports.save_draft(report, by=world["grantee"], period_start=D(2026, 2, 1), period_end=D(2026, 7, 31),
                                metrics={"people_represented": "3"}, variance_explanations={})  # fmt: skip
    reports.submit_report(report, by=world["grantee"], metric_definitions=METRICS)
    assert _run(D(2026, 8, 1)) == 0
    assert _run(D(2026, 8, 2)) == 0
    assert award.installments.filter(status=InstallmentStatus.ON_HOLD).count() == 0


def test_reminders_only_for_accepted_or_active_awards(world):
    award = reporting_award(world, paid=False)
    award.status = "cancelled"
    award.save(update_fields=["status"])
    assert _run(D(2026, 8, 1)) == 0


def test_overdue_report_holds_the_next_unpaid_payment_once(world):
    award = reporting_award(world, schedule=TWO_PAYMENTS)
    _run(D(2026, 8, 1))
    assert award.installments.get(number=2).status == InstallmentStatus.SCHEDULED, "not overdue on the day"
    _run(D(2026, 8, 2))
    second = award.installments.get(number=2)
    assert second.status == InstallmentStatus.ON_HOLD
    assert second.held_for_report == award.report_due_dates.get(kind=ReportKind.INTERIM)
    assert "2026" in second.hold_reason
    assert award.installments.get(number=1).status == InstallmentStatus.PAID
    # Finance lifts the hold by hand: the reminders do not put it back.
    installments.lift_hold(second, by=world["finance"], today=D(2026, 8, 3))
    _run(D(2026, 8, 9))
    assert award.installments.get(number=2).status == InstallmentStatus.SCHEDULED


def test_no_hold_when_the_call_says_so(world):
    award = reporting_award(world, schedule=TWO_PAYMENTS, hold_payments_for_overdue_reports=False)
    assert _run(D(2026, 8, 2)) == 1
    assert award.installments.get(number=2).status == InstallmentStatus.SCHEDULED


def test_hold_is_lifted_when_the_report_is_accepted(world):
    award = reporting_award(world, schedule=TWO_PAYMENTS)
    _run(D(2026, 8, 2))
    report = reports.report_for(award.report_due_dates.get(kind=ReportKind.INTERIM), by=world["grantee"])
    spend(report, world, 500)
    report = reports.save_draft(report, by=world["grantee"], period_start=D(2026, 2, 1), period_end=D(2026, 7, 31),
                                metrics={"people_represented": "3"}, variance_explanations={})  # fmt: skip
    report = reports.submit_report(report, by=world["grantee"], metric_definitions=METRICS)
    assert award.installments.get(number=2).status == InstallmentStatus.ON_HOLD, "submitting is not enough"
    reports.accept_report(report, by=world["officer"], today=D(2026, 9, 2))
    second = award.installments.get(number=2)
    assert second.status == InstallmentStatus.DUE, "its date has passed: it is due again"
    assert second.held_for_report is None


def test_reminders_go_out_in_spanish_to_a_spanish_grantee(world, django_capture_on_commit_callbacks):
    reporting_award(world, schedule=TWO_PAYMENTS)
    with django_capture_on_commit_callbacks(execute=True):
        _run(D(2026, 8, 2))
    (email,) = mail.outbox
    assert email.to == ["grantee@example.org"]
    html = email.alternatives[0][0]
    assert 'lang="es"' in html
    assert "1 ago 2026" in email.body, "dates as a Spanish reader writes them"
    assert "/es/" in email.body
    assert "2026" in email.body


@pytest.mark.parametrize("day", [D(2026, 7, 25), D(2026, 8, 1), D(2026, 8, 2)])
def test_each_reminder_renders(world, day, django_capture_on_commit_callbacks):
    world["grantee"].preferred_language = "en"
    world["grantee"].save(update_fields=["preferred_language"])
    reporting_award(world, schedule=TWO_PAYMENTS)
    with django_capture_on_commit_callbacks(execute=True):
        _run(day)
    (email,) = mail.outbox
    assert "interim report" in email.body
    assert email.subject and "{%" not in email.body


def test_the_daily_task_sends_todays_reminders(world, time_machine):
    reporting_award(world)
    time_machine.move_to("2026-08-01 09:00:00Z", tick=False)
    assert send_report_reminders_task.call() == 1
    assert send_report_reminders_task.call() == 0


def test_run_daily_sends_todays_report_reminders(world, time_machine):
    import io

    from django.core.management import call_command

    reporting_award(world)
    time_machine.move_to("2026-08-01 09:00:00Z", tick=False)
    out = io.StringIO()
    call_command("run_daily", stdout=out)
    assert "1 report reminders sent" in out.getvalue()
    assert ReportReminder.objects.filter(kind="due", sent_on=INTERIM_DUE).count() == 1
