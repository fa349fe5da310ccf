"""Grantee report pages: the draft, expenditures and receipts, submitting, the read-only report,
the dashboard's "Reports due", the award's money and returning unspent money."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from grants.models import (
    Expenditure,
    GrantReturn,
    OrganizationMembership,
    ReportStatus,
    ReturnStatus,
    Role,
    SpendingReport,
)
from grants.services import reports
from tests.factories import FoundationFactory, OrganizationFactory, UserFactory
from tests.grants.money_fixtures import staff
from tests.grants.report_helpers import PNG, pdf, reporting_award, spend, upload

TODAY = datetime.date.today()


def url(name, **kwargs):
    with translation.override("es"):
        return reverse(name, kwargs=kwargs)


@pytest.fixture
def award(world):
    return reporting_award(world)


@pytest.fixture
def due(award):
    return award.report_due_dates.get(kind="interim")


@pytest.fixture
def report_with_receipt(world, due):
    report = reports.report_for(due, by=world["grantee"])
    expenditure = spend(report, world, 1200)
    return report, expenditure


def outsiders(world):
    other_member = UserFactory(email="other@example.org")
    OrganizationMembership.objects.create(
        organization=OrganizationFactory(name="Otro Grupo"), user=other_member, role="owner"
    )
    elsewhere = FoundationFactory(name="Elsewhere", slug="elsewhere")
    return [other_member, staff(elsewhere, Role.PROGRAM_OFFICER), staff(elsewhere, Role.FOUNDATION_ADMIN)]


def form_data(**overrides):
    data = {
        "action": "save",
        "period_start": "2026-02-01",
        "period_end": "2026-07-31",
        "narrative": "Representamos a doce personas.",
        "metric_people_represented": "12",
        "metric_bonds_paid": "2",
        "metric_hearings_attended": "9",
    }
    data.update(overrides)
    return data


def test_members_see_and_edit_their_draft(world, due, client):
    client.force_login(world["grantee"])
    page = client.get(url("report_detail", due_id=due.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Agregar un gasto" in html or "Add an expenditure" in html
    assert "Never write the names" in html or "Nunca escriba" in html
    assert 'name="new-category"' in html and "Legal fees" in html
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]

    saved = client.post(url("report_detail", due_id=due.pk), form_data())
    assert saved.status_code == 302
    report = SpendingReport.objects.get(due=due)
    assert report.narrative == "Representamos a doce personas."
    assert report.period_start == datetime.date(2026, 2, 1)
    assert report.metrics["people_represented"] == "12"
    assert report.status == ReportStatus.DRAFT


def test_adding_and_removing_an_expenditure_keeps_the_draft_text(world, due, client):
    client.force_login(world["grantee"])
    added = client.post(
        url("report_detail", due_id=due.pk),
        form_data(**{"action": "add", "new-date": "2026-03-02", "new-category": "1",
                     "new-description": "Filing fee", "new-amount": "150,00", "new-receipt": pdf()}),
    )  # fmt: skip
    assert added.status_code == 302, added.content.decode()[:2000]
    expenditure = Expenditure.objects.get(report__due=due)
    assert expenditure.category == "1" and expenditure.receipt_name == "receipt.pdf"
    report = SpendingReport.objects.get(due=due)
    assert report.narrative == "Representamos a doce personas."  # the draft was saved with it
    page = client.get(url("report_detail", due_id=due.pk)).content.decode()
    assert "Filing fee" in page and "Filing fees" in page  # description and category label

    removed = client.post(
        url("report_detail", due_id=due.pk), form_data(narrative="Changed", remove=str(expenditure.pk))
    )
    assert removed.status_code == 302
    assert not Expenditure.objects.filter(report__due=due).exists()
    assert SpendingReport.objects.get(due=due).narrative == "Changed"


def test_a_bad_receipt_keeps_what_was_typed_and_says_why(world, due, client):
    client.force_login(world["grantee"])
    response = client.post(
        url("report_detail", due_id=due.pk),
        form_data(**{"action": "add", "new-date": "2026-03-02", "new-category": "0",
                     "new-description": "Abogada para audiencia", "new-amount": "480,50",
                     "new-receipt": upload("virus.exe", b"MZ\x90\x00" + b"\x00" * 64)}),
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "virus.exe" in html and ("PDF, JPEG, PNG" in html)  # the reason, from the service
    assert 'value="Abogada para audiencia"' in html
    assert 'value="480,50"' in html
    assert 'value="2026-03-02"' in html
    assert '<option value="0" selected>' in html
    assert "Representamos a doce personas." in html  # the report's own text is kept too
    assert not Expenditure.objects.filter(report__due=due).exists()


def test_submit_with_problems_shows_them_all_and_keeps_input(world, due, client):
    client.force_login(world["grantee"])
    response = client.post(
        url("report_detail", due_id=due.pk),
        form_data(action="submit", period_start="", metric_people_represented="muchas"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = reports.validate_report(
        SpendingReport.objects.get(due=due),
        metric_definitions=[{"key": "people_represented", "label": "x", "kind": "number"}],
    )
    assert {"period_start", "expenditures", "metric_people_represented"} <= set(errors)
    with translation.override("es"):
        expected = [
            "Give the first day of the period this report covers.",
            "List at least one expenditure.",
        ]
        expected = [translation.gettext(text) for text in expected]
    for text in expected:
        assert text in html
    assert 'value="muchas"' in html  # what was typed stays
    assert "Representamos a doce personas." in html
    assert SpendingReport.objects.get(due=due).status == ReportStatus.DRAFT


def test_after_submit_the_page_is_read_only(world, due, report_with_receipt, client):
    report, _expenditure = report_with_receipt
    client.force_login(world["grantee"])
    submitted = client.post(url("report_detail", due_id=due.pk), form_data(action="submit"))
    assert submitted.status_code == 302, submitted.content.decode()[:3000]
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.version == 1
    html = client.get(url("report_detail", due_id=due.pk)).content.decode()
    assert "<textarea" not in html and 'name="action"' not in html and 'name="remove"' not in html
    assert "Representamos a doce personas." in html
    # Posting anyway changes nothing.
    client.post(url("report_detail", due_id=due.pk), form_data(narrative="Otro texto"))
    report.refresh_from_db()
    assert report.narrative == "Representamos a doce personas."

    reports.request_changes(report, by=world["officer"], message="Falta el recibo de la fianza.")
    html = client.get(url("report_detail", due_id=due.pk)).content.decode()
    assert "Falta el recibo de la fianza." in html and "<textarea" in html


def test_others_get_404_on_the_page_and_receipts(world, due, report_with_receipt, client):
    _report, expenditure = report_with_receipt
    for user in outsiders(world):
        client.force_login(user)
        assert client.get(url("report_detail", due_id=due.pk)).status_code == 404
        assert client.post(url("report_detail", due_id=due.pk), form_data()).status_code == 404
        assert (
            client.get(url("report_receipt", due_id=due.pk, expenditure_id=expenditure.pk)).status_code == 404
        )
    client.logout()
    assert client.get(url("report_receipt", due_id=due.pk, expenditure_id=expenditure.pk)).status_code == 302


@pytest.mark.parametrize("who", ["grantee", "officer", "finance", "auditor"])
def test_receipts_download_for_members_and_the_foundations_staff(
    world, due, report_with_receipt, client, who
):
    _report, expenditure = report_with_receipt
    client.force_login(world[who])
    response = client.get(url("report_receipt", due_id=due.pk, expenditure_id=expenditure.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert "receipt.pdf" in response["Content-Disposition"]


def test_a_receipt_of_another_report_is_404(world, award, report_with_receipt, client):
    _report, expenditure = report_with_receipt
    final = award.report_due_dates.get(kind="final")
    client.force_login(world["grantee"])
    assert (
        client.get(url("report_receipt", due_id=final.pk, expenditure_id=expenditure.pk)).status_code == 404
    )


def test_dashboard_lists_due_and_overdue_reports(world, award, client):
    client.force_login(world["grantee"])
    html = client.get(url("dashboard")).content.decode()
    interim = award.report_due_dates.get(kind="interim")
    final = award.report_due_dates.get(kind="final")
    assert 'id="reports-due-heading"' in html
    assert url("report_detail", due_id=interim.pk) in html and url("report_detail", due_id=final.pk) in html
    with translation.override("es"):
        overdue = translation.gettext("Overdue")
    assert html.count(overdue) >= 1  # the interim report (due 2026-08-01) is overdue today
    assert interim.due_date < TODAY


def test_award_page_shows_the_money_and_the_reports(world, award, report_with_receipt, client):
    report, _expenditure = report_with_receipt
    client.force_login(world["grantee"])
    html = client.get(url("award_detail", pk=award.pk)).content.decode()
    money = reports.award_money(award)
    assert 'id="money-heading"' in html
    assert "5.000,00" in html  # awarded and paid, in Spanish format
    assert str(money.remaining.amount) in ("5000.00", "5000")
    assert url("report_detail", due_id=report.due_id) in html
    assert url("award_return", pk=award.pk) in html


def test_return_form_announces_money_and_keeps_input_on_error(world, award, client):
    client.force_login(world["grantee"])
    too_much = client.post(
        url("award_return", pk=award.pk),
        {"return-amount": "99999", "return-method": "check", "return-reference": "CHK-77"},
    )
    assert too_much.status_code == 400
    html = too_much.content.decode()
    assert 'value="CHK-77"' in html and 'value="99999"' in html
    assert not GrantReturn.objects.exists()

    ok = client.post(
        url("award_return", pk=award.pk),
        {"return-amount": "250,00", "return-method": "check", "return-reference": "CHK-77"},
    )
    assert ok.status_code == 302
    grant_return = GrantReturn.objects.get()
    assert grant_return.status == ReturnStatus.ANNOUNCED and grant_return.amount.amount == 250
    assert grant_return.method == "check" and grant_return.reference == "CHK-77"

    client.force_login(outsiders(world)[0])
    assert client.post(url("award_return", pk=award.pk), {"return-amount": "1"}).status_code == 404


def test_png_receipt_is_accepted(world, due, client):
    client.force_login(world["grantee"])
    response = client.post(
        url("report_detail", due_id=due.pk),
        form_data(**{"action": "add", "new-date": "2026-03-03", "new-category": "2",
                     "new-description": "Intérprete", "new-amount": "80",
                     "new-receipt": upload("foto.png", PNG, "image/png")}),
    )  # fmt: skip
    assert response.status_code == 302
    assert Expenditure.objects.get(report__due=due).receipt_content_type == "image/png"
