"""Spending reports in Wagtail admin: who sees and acts, another foundation's 404s, accepting and
asking for changes, confirming returned money, and each fund's program results."""

import datetime

import pytest
from django.urls import reverse

from grants.models import GrantReturn, ReportStatus, ReturnStatus, Role
from grants.services import reports
from tests.factories import FoundationFactory
from tests.grants.money_fixtures import staff, usd
from tests.grants.report_helpers import reporting_award, spend

D = datetime.date
METRICS = ["metric_people_represented", "metric_bonds_paid", "metric_hearings_attended"]


def refused(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


@pytest.fixture
def submitted(world):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    report = reports.report_for(due, by=world["grantee"])
    spend(report, world, 1200)
    reports.save_draft(
        report, by=world["grantee"], period_start=D(2026, 2, 1), period_end=D(2026, 7, 31),
        narrative="Doce personas representadas.",
        metrics={"people_represented": "12", "bonds_paid": "2", "hearings_attended": "9"},
        variance_explanations={},
    )  # fmt: skip
    definitions = [{"key": k.removeprefix("metric_"), "label": k, "kind": "number"} for k in METRICS]
    reports.submit_report(report, by=world["grantee"], metric_definitions=definitions)
    report.refresh_from_db()
    return report


def urls(report):
    due_id = report.due_id
    return {
        "index": reverse("reports_admin:index"),
        "report": reverse("reports_admin:report", args=[due_id]),
        "results": reverse("reports_admin:fund_results", args=[report.award.fund_id]),
    }


@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_staff_of_the_foundation_see_the_list_and_the_report(world, submitted, client, role):
    client.force_login(world[role])
    listing = client.get(urls(submitted)["index"]).content.decode()
    assert submitted.award.reference in listing and world["organization"].name in listing
    page = client.get(urls(submitted)["report"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Hearing preparation" in html and "Doce personas representadas." in html
    assert reverse("report_receipt", kwargs={"due_id": submitted.due_id, "expenditure_id":
                                              submitted.expenditures.get().pk}) in html  # fmt: skip
    assert "Version 1" in html  # the submitted version is readable
    can_decide = role == "officer"
    assert (reverse("reports_admin:accept", args=[submitted.due_id]) in html) is can_decide


@pytest.mark.parametrize(
    "role", [Role.PROGRAM_OFFICER, Role.FOUNDATION_ADMIN, Role.AUDITOR, Role.FINANCE_OFFICER]
)
def test_another_foundations_staff_get_404(world, submitted, client, role):
    client.force_login(staff(FoundationFactory(name="Elsewhere", slug="elsewhere"), role))
    # An admin 404 is answered with a redirect to the language-prefixed path, which is a 404 too.
    assert client.get(urls(submitted)["report"], follow=True).status_code == 404
    assert client.get(urls(submitted)["results"], follow=True).status_code == 404
    assert (
        client.post(reverse("reports_admin:accept", args=[submitted.due_id]), follow=True).status_code == 404
    )
    listing = client.get(urls(submitted)["index"])
    assert submitted.award.reference not in listing.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_cannot_accept_or_send_back(world, submitted, client, role):
    client.force_login(world[role])
    assert refused(client.post(reverse("reports_admin:accept", args=[submitted.due_id])))
    assert refused(
        client.post(reverse("reports_admin:request_changes", args=[submitted.due_id]), {"message": "x"})
    )
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED


def test_request_changes_needs_a_message_then_accept(world, submitted, client):
    client.force_login(world["officer"])
    changes = reverse("reports_admin:request_changes", args=[submitted.due_id])
    empty = client.post(changes, {"message": "  "})
    assert empty.status_code == 400
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED

    assert client.post(changes, {"message": "Añadan el recibo de la fianza."}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.CHANGES_REQUESTED
    assert submitted.officer_message == "Añadan el recibo de la fianza."
    page = client.get(urls(submitted)["report"]).content.decode()
    assert reverse("reports_admin:accept", args=[submitted.due_id]) not in page  # nothing to decide now

    definitions = [{"key": k.removeprefix("metric_"), "label": k, "kind": "number"} for k in METRICS]
    reports.submit_report(submitted, by=world["grantee"], metric_definitions=definitions)
    assert client.post(reverse("reports_admin:accept", args=[submitted.due_id])).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.ACCEPTED and submitted.version == 2


def test_overdue_filter_and_highlight(world, submitted, client):
    final = submitted.award.report_due_dates.get(kind="final")
    client.force_login(world["officer"])
    overdue_only = client.get(urls(submitted)["index"], {"overdue": "1"}).content.decode()
    interim_url = reverse("reports_admin:report", args=[submitted.due_id])
    assert interim_url not in overdue_only  # submitted: not overdue
    by_status = client.get(urls(submitted)["index"], {"status": "submitted"}).content.decode()
    assert interim_url in by_status
    assert reverse("reports_admin:report", args=[final.pk]) not in by_status


def test_finance_confirms_returned_money(world, submitted, client):
    award = submitted.award
    grant_return = reports.announce_return(award, by=world["grantee"], amount=usd(100), method="check")
    client.force_login(world["officer"])
    page = client.get(urls(submitted)["report"]).content.decode()
    assert "Confirm received" not in page
    confirm = reverse("reports_admin:confirm_return", args=[submitted.due_id])
    assert refused(client.post(confirm, {"return_id": grant_return.pk,
                                         f"return-{grant_return.pk}-received_on": "2026-09-01"}))  # fmt: skip
    client.force_login(world["finance"])
    assert "Confirm received" in client.get(urls(submitted)["report"]).content.decode()
    response = client.post(confirm, {"return_id": grant_return.pk,
                                     f"return-{grant_return.pk}-received_on": "2026-09-01"})  # fmt: skip
    assert response.status_code == 302
    grant_return.refresh_from_db()
    assert grant_return.status == ReturnStatus.RECEIVED and grant_return.received_on == D(2026, 9, 1)
    assert GrantReturn.objects.count() == 1


def test_program_results_add_up_accepted_reports(world, submitted, client):
    reports.accept_report(submitted, by=world["officer"])
    client.force_login(world["auditor"])
    html = client.get(urls(submitted)["results"]).content.decode()
    assert "People represented" in html
    totals = {row["key"]: row["total"] for row in reports.fund_metric_totals(
        submitted.award.fund, metric_definitions=[{"key": "people_represented", "label": "P", "kind": "number"}])}  # fmt: skip
    assert totals["people_represented"] == 12
    assert ">12<" in html
    assert client.get(reverse("reports_admin:results")).status_code == 200
