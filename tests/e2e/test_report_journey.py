"""Browser journey of a spending report: the grantee files an interim report in Spanish from a
phone-sized screen (two expenditures, a receipt each), the program officer asks for a change in
Wagtail admin, the grantee changes and resubmits, the officer accepts, and the payment that was
held because the report was overdue can be released again."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from grants.models import (
    Installment,
    InstallmentStatus,
    OrganizationMembership,
    ReportStatus,
    Role,
    SpendingReport,
)
from grants.services import awards, installments
from grants.services.report_reminders import send_report_reminders
from grants.services.staff import add_staff
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import sign_in_staff
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, UserFactory
from tests.grants.money_fixtures import award_for, fund_with, usd
from tests.grants.report_helpers import PDF, PNG, set_budget

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
D = datetime.date


def _user(email, *, language="en", staff_role=None, foundation=None):
    user = UserFactory(email=email, preferred_language=language, is_staff=staff_role is not None)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if staff_role:
        add_staff(user, foundation=foundation, role=staff_role)
    return user


@pytest.fixture
def overdue_report(e2e_site):
    """An accepted award with an approved budget: first payment made, the second held because
    the interim report (due 2026-08-01) is overdue."""
    foundation = FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    world = {
        "foundation": foundation,
        "fund": FundFactory(foundation=foundation, name="Rapid Defense Fund", currency="USD"),
        "officer": _user("olga@foundation.example", staff_role=Role.PROGRAM_OFFICER, foundation=foundation),
        "finance": _user("felipe@foundation.example", staff_role=Role.FINANCE_OFFICER, foundation=foundation),
        "grantee": _user("ana@comite.example", language="es"),
        "organization": OrganizationFactory(name="Comité de Defensa"),
    }
    OrganizationMembership.objects.create(
        organization=world["organization"], user=world["grantee"], role="owner"
    )
    fund_with(world, 10000)
    later = D(datetime.date.today().year + 1, 1, 15)
    award = award_for(world, 5000, schedule=[(D(2026, 2, 1), usd(2500)), (later, usd(2500))])
    set_budget(award.application)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    first, second = award.installments.order_by("number")
    installments.record_payment_outside_processor(first, by=world["finance"], paid_on=D(2026, 2, 1),
                                                  reference="CHK-1")  # fmt: skip
    send_report_reminders(today=D(2026, 8, 10))
    second.refresh_from_db()
    assert second.status == InstallmentStatus.ON_HOLD and second.held_for_report_id
    return {**world, "award": award, "due": award.report_due_dates.get(kind="interim"), "held": second}


def _page(browser, locale, viewport):
    context = browser.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _grantee_sign_in(page, url):
    page.goto(url("/es/accounts/login/?next=/es/dashboard/"))
    page.locator("input[name=login]").fill("ana@comite.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(url("/es/dashboard/"))


def _add_expenditure(page, *, date, category, description, amount, receipt):
    page.locator("input[name=new-date]").fill(date)
    page.locator("select[name=new-category]").select_option(category)
    page.locator("input[name=new-description]").fill(description)
    page.locator("input[name=new-amount]").fill(amount)
    page.locator("input[name=new-receipt]").set_input_files(receipt)
    page.locator("button[name=action][value=add]").click()
    expect(page.locator("#expenditures table")).to_contain_text(description)


def test_an_interim_report_from_draft_to_accepted(overdue_report, url, browser):
    due, held = overdue_report["due"], overdue_report["held"]
    report_path = f"/es/reports/{due.pk}/"

    # The grantee, in Spanish on a phone: the dashboard shows the overdue report.
    context, page = _page(browser, "es-MX", PHONE)
    _grantee_sign_in(page, url)
    expect(page.locator("#reports-due-heading")).to_be_visible()
    page.locator(f'a[href="{report_path}"]').first.click()
    expect(page).to_have_url(url(report_path))
    assert_accessible(page)

    page.locator("input[name=period_start]").fill("2026-02-01")
    page.locator("input[name=period_end]").fill("2026-07-31")
    page.locator("textarea[name=narrative]").fill("Representamos a doce personas en sus audiencias.")
    _add_expenditure(page, date="2026-03-02", category="0", description="Abogada para audiencias",
                     amount="1200", receipt={"name": "recibo.png", "mimeType": "image/png", "buffer": PNG})  # fmt: skip
    # What was typed before adding the expenditure is still there.
    expect(page.locator("textarea[name=narrative]")).to_have_value(
        "Representamos a doce personas en sus audiencias."
    )
    _add_expenditure(page, date="2026-04-15", category="1", description="Cuotas de presentación",
                     amount="150,50", receipt={"name": "cuota.pdf", "mimeType": "application/pdf", "buffer": PDF})  # fmt: skip
    for metric in page.locator("input[name^=metric_]").all():
        metric.fill("3")
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator("textarea")).to_have_count(0)  # read only once submitted
    report = SpendingReport.objects.get(due=due)
    assert report.status == ReportStatus.SUBMITTED and report.expenditures.count() == 2
    expect(page.locator("main")).to_contain_text("Abogada para audiencias")
    assert_accessible(page)
    context.close()

    # The officer asks for a change in the admin.
    context, page = _page(browser, "en-US", WIDE)
    sign_in_staff(page, url, overdue_report["officer"])
    page.goto(url(f"/admin/reports/{due.pk}/"))
    expect(page.locator("main")).to_contain_text("Abogada para audiencias")
    page.locator("textarea[name=message]").fill("Digan cuántas audiencias hubo en total.")
    page.get_by_role("button", name="Ask for changes").click()
    report.refresh_from_db()
    assert report.status == ReportStatus.CHANGES_REQUESTED
    context.close()

    # The grantee reads the message, changes the narrative and submits again.
    context, page = _page(browser, "es-MX", PHONE)
    _grantee_sign_in(page, url)
    page.goto(url(report_path))
    expect(page.locator("main")).to_contain_text("Digan cuántas audiencias hubo en total.")
    page.locator("textarea[name=narrative]").fill("Representamos a doce personas en nueve audiencias.")
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator("textarea")).to_have_count(0)
    report.refresh_from_db()
    assert report.status == ReportStatus.RESUBMITTED and report.version == 2
    context.close()

    # The officer accepts; the held payment can be released again.
    context, page = _page(browser, "en-US", WIDE)
    sign_in_staff(page, url, overdue_report["officer"])
    page.goto(url(f"/admin/reports/{due.pk}/"))
    expect(page.locator("#versions")).to_contain_text("Version 2")
    page.get_by_role("button", name="Accept the report").click()
    expect(page.locator("main")).to_contain_text("Accepted")
    context.close()
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    held = Installment.objects.get(pk=held.pk)
    assert held.status in (InstallmentStatus.DUE, InstallmentStatus.SCHEDULED)
    assert held.held_for_report_id is None
