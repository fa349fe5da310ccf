"""The public transparency page reads on a phone in Spanish, hides small figures and passes axe."""

import datetime

from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import Role
from grants.services import ledger
from grants.services.staff import add_staff
from tests.e2e.axe import assert_accessible
from tests.factories import FoundationFactory, FundFactory, UserFactory


def test_transparency_page_in_spanish_on_a_phone(e2e_site, url, browser):
    foundation = FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    fund = FundFactory(foundation=foundation, name="Defense Fund")
    finance = UserFactory(is_staff=True)
    add_staff(finance, foundation=foundation, role=Role.FINANCE_OFFICER)
    ledger.record_income(fund=fund, amount=Money(5000, "USD"), source="grant", received_on=datetime.date.today(),
                         reference="GRANT-1", by=finance)  # fmt: skip
    context = browser.new_context(locale="es-MX", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(url("/es/transparency/bay-area/"))
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("main")).to_contain_text("5.000,00")
    assert_accessible(page)
    page.goto(url("/es/transparency/bay-area/" + fund.slug + "/"))
    assert_accessible(page)
    context.close()
