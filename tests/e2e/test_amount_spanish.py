"""Browser journey: a grantee on a phone, in Spanish, types an expense the Spanish way
("1.500,75"); the portal stores 1500.75 and shows it back as "1.500,75". An ambiguous "1,500" is
refused with the typed text kept and nothing stored."""

from decimal import Decimal

from playwright.sync_api import expect

from grants.models import Expenditure
from tests.e2e.axe import assert_accessible
from tests.e2e.test_report_journey import PHONE, _grantee_sign_in, _page, overdue_report  # noqa: F401
from tests.grants.report_helpers import PDF


def _fill_expense(page, amount):
    page.locator("input[name=new-date]").fill("2026-03-02")
    page.locator("select[name=new-category]").select_option("0")
    page.locator("input[name=new-description]").fill("Abogada para audiencias")
    page.locator("input[name=new-amount]").fill(amount)
    page.locator("input[name=new-receipt]").set_input_files(
        {"name": "recibo.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("button[name=action][value=add]").click()


def test_an_expense_typed_the_spanish_way_is_stored_as_meant(overdue_report, url, browser):  # noqa: F811
    due = overdue_report["due"]
    context, page = _page(browser, "es-MX", PHONE)
    _grantee_sign_in(page, url)
    page.goto(url(f"/es/reports/{due.pk}/"))
    amount = page.locator("input[name=new-amount]")
    expect(amount).to_have_attribute("inputmode", "decimal")
    expect(amount).to_have_attribute("placeholder", "1.500,75")
    assert_accessible(page)

    # Ambiguous: one thousand five hundred, or one and a half? Refused, the text kept.
    _fill_expense(page, "1,500")
    expect(page.locator("main")).to_contain_text("1500")
    expect(page.locator("input[name=new-amount]")).to_have_value("1,500")
    assert not Expenditure.objects.filter(report__due=due).exists()
    assert_accessible(page)

    _fill_expense(page, "1.500,75")
    expect(page.locator("#expenditures table")).to_contain_text("Abogada para audiencias")
    expense = Expenditure.objects.get(report__due=due)
    assert expense.amount.amount == Decimal("1500.75")
    assert str(expense.amount.currency) == "USD"
    expect(page.locator("#expenditures table")).to_contain_text("1.500,75")
    assert_accessible(page)
    context.close()
