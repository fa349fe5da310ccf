"""The admin home shows each person what waits for them, per role, for their foundations only."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from djmoney.money import Money

from grants.models import (
    ApplicationStatus,
    Award,
    AwardStatus,
    Disbursement,
    DisbursementStatus,
    ExportJob,
    ExportStatus,
    Installment,
    InstallmentStatus,
    PayeeAccount,
    ReportDueDate,
    ReportStatus,
    ReviewAssignment,
    Role,
    SpendingReport,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.services import work_queues
from grants.services.staff import add_staff
from tests.factories import (
    ApplicationFactory,
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOME = "/admin/"


def person(foundation, *roles, **kwargs):
    user = UserFactory(is_staff=True, preferred_language="en", **kwargs)
    for role in roles:
        add_staff(user, foundation=foundation, role=role)
    return user


class Side:
    """One foundation with a fund, a normal call and a rapid-response call, and its staff."""

    def __init__(self, name: str, slug: str):
        self.name = name
        self.foundation = FoundationFactory(name=name, slug=slug)
        self.fund = FundFactory(foundation=self.foundation, currency="USD")
        self.call = FundingCallFactory(fund=self.fund)
        self.rapid = FundingCallFactory(fund=self.fund, rapid_response=True, decision_target_hours=72)
        self.officer = person(self.foundation, Role.PROGRAM_OFFICER)
        self.reviewer = person(self.foundation, Role.REVIEWER)
        self.finance = person(self.foundation, Role.FINANCE_OFFICER)
        self.auditor = person(self.foundation, Role.AUDITOR)
        self.count = 0

    def _org(self, label):
        self.count += 1
        return OrganizationFactory(name=f"{label} {self.name} {self.count}")

    def application(self, label="Waiting", **kwargs):
        self.count += 1
        return ApplicationFactory(
            call=kwargs.pop("call", self.call),
            organization=self._org(label),
            reference=f"{self.foundation.slug.upper()}-{label.upper()}-{self.count:03d}",
            **kwargs,
        )

    def rapid_application(self, hours_left):
        now = timezone.now()
        return self.application(
            "Rapid", call=self.rapid, status=ApplicationStatus.SUBMITTED,
            decision_due_at=now + datetime.timedelta(hours=hours_left),
        )  # fmt: skip

    def late_review(self):
        application = self.application("Latereview", status=ApplicationStatus.IN_REVIEW)
        assignment = ReviewAssignment.objects.create(
            application=application, reviewer=self.reviewer, status=ReviewAssignment.Status.REVIEWING
        )
        ReviewAssignment.objects.filter(pk=assignment.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=30)
        )
        return assignment

    def assignment(self, days_ago=1):
        application = self.application("Assigned", status=ApplicationStatus.IN_REVIEW)
        assignment = ReviewAssignment.objects.create(application=application, reviewer=self.reviewer)
        ReviewAssignment.objects.filter(pk=assignment.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=days_ago)
        )
        return assignment

    def award(self, status=AwardStatus.ACCEPTED, label="Granted"):
        application = self.application(label, status=ApplicationStatus.APPROVED)
        today = timezone.localdate()
        return Award.objects.create(
            application=application, fund=self.fund, amount=Money(1000, "USD"), status=status,
            start_date=today, end_date=today + datetime.timedelta(days=365), offered_by=self.officer,
        )  # fmt: skip

    def installment(self, *, due, status=InstallmentStatus.SCHEDULED, award=None):
        award = award or self.award(label="Payment")
        return Installment.objects.create(
            award=award, number=1, due_date=due, amount=award.amount, status=status
        )

    def report(self):
        award = self.award(label="Reporting")
        due = ReportDueDate.objects.create(award=award, kind="interim", due_date=timezone.localdate())
        return SpendingReport.objects.create(
            award=award, due=due, status=ReportStatus.SUBMITTED, submitted_at=timezone.now()
        )

    def disbursement(self, status, *, sent_days_ago=0):
        installment = self.installment(due=timezone.localdate(), status=InstallmentStatus.APPROVED)
        self.count += 1
        payee = PayeeAccount.objects.create(
            foundation=self.foundation, organization=installment.award.application.organization,
            stripe_account_id=f"acct_{self.foundation.slug}_{self.count}",
        )  # fmt: skip
        now = timezone.now()
        return Disbursement.objects.create(
            foundation=self.foundation, award=installment.award, installment=installment, payee=payee,
            amount=installment.amount, status=status, released_by=self.finance,
            submitted_at=now - datetime.timedelta(days=sent_days_ago), outcome_unknown_since=now,
            failure_message="Account closed",
        )  # fmt: skip

    def flagged_event(self):
        self.count += 1
        return WebhookEvent.objects.create(
            event_id=f"evt_{self.foundation.slug}_{self.count}", foundation=self.foundation,
            endpoint="connect", type="transfer.reversed", created=0, payload={},
            status=WebhookEventStatus.FLAGGED, note=f"Unknown transfer at {self.name}",
        )  # fmt: skip

    def export(self, by, status=ExportStatus.READY):
        today = timezone.localdate()
        return ExportJob.objects.create(
            foundation=self.foundation, date_from=today - datetime.timedelta(days=30), date_to=today,
            requested_by=by, status=status,
        )  # fmt: skip


@pytest.fixture
def sides(db):
    return Side("Bay Area Foundation", "bay"), Side("Canary Foundation", "canary")


def home(client, user, language="en"):
    client.force_login(user)
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


# --- Officers ----------------------------------------------------------------------------------


def fill_officer(side, n=1):
    for _ in range(n):
        side.application("Waiting", status=ApplicationStatus.SUBMITTED)
        side.rapid_application(hours_left=5)
        side.late_review()
        side.report()


def test_officer_sees_decisions_clocks_late_reviews_and_reports_with_links(sides, client):
    bay, canary = sides
    waiting = bay.application("Waiting", status=ApplicationStatus.RESUBMITTED)
    later = bay.rapid_application(hours_left=60)
    overdue = bay.rapid_application(hours_left=-2)
    late = bay.late_review()
    report = bay.report()
    bay.application("Draftonly", status=ApplicationStatus.DRAFT)
    bay.application("Decided", status=ApplicationStatus.DECLINED)
    fill_officer(canary)

    queues = {q.key: q for q in work_queues.officer_queues(bay.officer)}
    assert [i.title.split(" · ")[0] for i in queues["rapid"].items] == [overdue.reference, later.reference]
    assert queues["rapid"].items[0].urgent and queues["rapid"].items[0].detail.startswith("Overdue by")
    assert "left" in queues["rapid"].items[1].detail and not queues["rapid"].items[1].urgent
    decisions = [i.title.split(" · ")[0] for i in queues["decisions"].items]
    assert decisions == [waiting.reference, late.application.reference]  # oldest first; drafts, decided not
    assert queues["late_reviews"].total == 1
    assert queues["reports"].total == 1

    html = home(client, bay.officer)
    assert reverse("applications:inspect", args=[waiting.pk]) in html
    assert reverse("applications:inspect", args=[late.application_id]) in html
    assert reverse("reports_admin:report", args=[report.due_id]) in html
    assert "Bay Area Foundation" in html
    assert "Canary" not in html  # another foundation's staff see none of its work


def test_a_clock_running_out_later_today_is_marked_urgent(sides):
    bay, _canary = sides
    now = timezone.localtime().replace(hour=8, minute=0)
    application = bay.rapid_application(hours_left=0)
    application.decision_due_at = now + datetime.timedelta(hours=3)
    application.save()
    [item] = work_queues.rapid_response_clocks(bay.officer, now=now).items
    assert item.urgent and "3\xa0hours left" in item.detail


def test_officer_with_nothing_to_do_reads_so(sides, client):
    bay, canary = sides
    fill_officer(canary)
    html = home(client, bay.officer)
    assert "Nothing waits for you." in html
    assert "Canary" not in html


# --- Reviewers -----------------------------------------------------------------------------------


def test_reviewer_sees_own_assignments_soonest_due_first(sides, client):
    bay, canary = sides
    old = bay.assignment(days_ago=10)
    new = bay.assignment(days_ago=1)
    ReviewAssignment.objects.create(application=bay.application("Someoneelse"), reviewer=bay.officer)
    canary.assignment()
    [queue] = [q for key, _h, qs in work_queues.panels_for(bay.reviewer) for q in qs if key == "reviewer"]
    assert [i.url for i in queue.items] == [
        reverse("reviews:detail", args=[old.application_id]),
        reverse("reviews:detail", args=[new.application_id]),
    ]
    assert "Due " in queue.items[0].detail and "Declare any conflict" in queue.items[0].detail
    html = home(client, bay.reviewer)
    assert old.application.reference in html and "Canary" not in html


def test_reviewer_without_assignments_reads_nothing_waits(sides, client):
    bay, canary = sides
    canary.assignment()
    html = home(client, bay.reviewer)
    assert "Nothing waits for you." in html and "Reviews assigned to you" in html


# --- Finance ---------------------------------------------------------------------------------------


def fill_finance(side, n=1):
    today = timezone.localdate()
    for _ in range(n):
        side.installment(due=today)
        side.installment(due=today - datetime.timedelta(days=3), status=InstallmentStatus.FAILED)
        side.disbursement(DisbursementStatus.UNKNOWN)
        side.disbursement(DisbursementStatus.SUBMITTED, sent_days_ago=5)
        side.flagged_event()


def test_finance_sees_due_failed_unknown_flagged_and_unconfirmed(sides, client):
    bay, canary = sides
    today = timezone.localdate()
    # Falls due today and the daily job has not run: still scheduled, already listed.
    due_today = bay.installment(due=today)
    overdue = bay.installment(due=today - datetime.timedelta(days=2), status=InstallmentStatus.DUE)
    bay.installment(due=today + datetime.timedelta(days=1))  # tomorrow: not yet
    bay.installment(due=today, award=bay.award(status=AwardStatus.OFFERED, label="Offered"))  # not accepted
    failed = bay.installment(due=today, status=InstallmentStatus.FAILED)
    unknown = bay.disbursement(DisbursementStatus.UNKNOWN)
    unconfirmed = bay.disbursement(DisbursementStatus.SUBMITTED, sent_days_ago=5)
    bay.disbursement(DisbursementStatus.SUBMITTED, sent_days_ago=0)  # just sent: not yet a difference
    event = bay.flagged_event()
    fill_finance(canary)

    queues = {q.key: q for q in work_queues.finance_queues(bay.finance)}
    review = reverse("payments:review")
    assert [i.url for i in queues["payments_due"].items] == [
        f"{review}?installment={overdue.pk}",
        f"{review}?installment={due_today.pk}",
    ]
    assert queues["payments_due"].items[1].urgent and "due today" in queues["payments_due"].items[1].detail
    assert [i.url for i in queues["failed"].items] == [f"{review}?installment={failed.pk}"]
    assert [i.url for i in queues["unknown"].items] == [reverse("payments:disbursement", args=[unknown.pk])]
    assert [i.url for i in queues["flagged"].items] == [reverse("payments:webhook_reapply", args=[event.pk])]
    assert [i.title for i in queues["reconciliation"].items] == [
        f"{unconfirmed.award.application.reference} · {unconfirmed.award.application.organization.name}"
    ]
    html = home(client, bay.finance)
    assert "Unknown transfer at Bay Area" in html and "Canary" not in html


# --- Auditors --------------------------------------------------------------------------------------


def test_auditor_sees_own_exports_only(sides, client):
    bay, canary = sides
    mine = bay.export(bay.auditor)
    bay.export(bay.finance)  # someone else's
    bay.export(bay.auditor, status=ExportStatus.EXPIRED)
    canary.export(canary.auditor)
    html = home(client, bay.auditor)
    assert reverse("exports:detail", args=[mine.pk]) in html
    assert html.count(reverse("exports:index") + '"') <= 2
    [queue] = work_queues.panels_for(bay.auditor)[0][2]
    assert queue.total == 1
    assert "Canary" not in html


def test_auditor_without_exports_reads_nothing_waits_in_spanish(sides, client):
    bay, _canary = sides
    bay.auditor.preferred_language = "es"
    bay.auditor.save(update_fields=["preferred_language"])
    with translation.override("es"):
        html = home(client, bay.auditor, language="es")
    assert "Nada le espera." in html and "Exportaciones" in html and "Nothing waits" not in html


# --- Several roles, several foundations -----------------------------------------------------------


def test_person_with_roles_in_two_foundations_sees_the_union_each_named(sides, client):
    bay, canary = sides
    both = person(bay.foundation, Role.PROGRAM_OFFICER)
    add_staff(both, foundation=canary.foundation, role=Role.FINANCE_OFFICER)
    bay_app = bay.application("Waiting", status=ApplicationStatus.SUBMITTED)
    canary_app = canary.application("Waiting", status=ApplicationStatus.SUBMITTED)
    canary_due = canary.installment(due=timezone.localdate())
    bay.installment(due=timezone.localdate())  # bay's money: not this person's to release
    html = home(client, both)
    assert bay_app.reference in html and canary_app.reference not in html
    assert f"installment={canary_due.pk}" in html
    queues = {q.key: q for _k, _h, qs in work_queues.panels_for(both) for q in qs}
    assert queues["payments_due"].items[0].foundation == "Canary Foundation"
    assert queues["decisions"].items[0].foundation == "Bay Area Foundation"


# --- Constant queries -------------------------------------------------------------------------------


def queries_for_home(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(HOME).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "role, fill",
    [
        ("officer", fill_officer),
        ("reviewer", lambda side, n: [side.assignment() for _ in range(n)]),
        ("finance", fill_finance),
        ("auditor", lambda side, n: [side.export(side.auditor) for _ in range(n)]),
    ],
)
def test_the_home_asks_the_same_number_of_queries_for_2_and_20_items(sides, client, role, fill):
    bay, canary = sides
    user = getattr(bay, role)
    fill(bay, 2)
    fill(canary, 2)
    few = queries_for_home(client, user)
    fill(bay, 18)
    many = queries_for_home(client, user)
    assert few == many


def test_a_payment_falling_due_today_can_be_released_before_the_daily_job(sides):
    """The queue's link leads to a release that works: the date, not the job, makes it due."""
    from grants.services import payments

    bay, _canary = sides
    installment = bay.installment(due=timezone.localdate())
    tomorrow = bay.installment(due=timezone.localdate() + datetime.timedelta(days=1))
    rows, _totals = payments.release_preview([installment, tomorrow], by=bay.finance)
    assert rows[0].problem is None or "not due" not in rows[0].problem
    assert "not due until" in rows[1].problem
