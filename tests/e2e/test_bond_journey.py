"""Browser journey of a bond, in English and in Spanish: the partner asks for it on a phone (an
A-number typed in the label is refused with everything kept; the amount typed the reader's way),
the officer decides on the clock, finance posts it with the government's reference, records the
cancellation and the refund with interest. The ledger ends exact; axe finds nothing on each page.

With ``FUNDPORTAL_SCREENSHOTS=docs/screenshots`` it saves the pages as PNGs.
"""

import datetime
import io
import os
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from djmoney.money import Money
from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from grants.models import Bond, BondStatus, OrganizationMembership, ProgramType, Role
from grants.services import bonds, ledger
from grants.services.staff import add_staff
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import sign_in_staff
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}

# What each language types and reads.
WORDS = {
    "en": {
        "locale": "en-US", "amount": "7,500.00", "interest": "12.34", "warning": "A-number",
        "requested": "Requested", "approved": "Approved, not posted yet", "posted": "Posted",
        "expected": "Cancelled, refund expected", "returned": "Returned", "refused": "A-number",
    },
    "es": {
        "locale": "es-MX", "amount": "7.500,00", "interest": "12,34", "warning": "número A",
        "requested": "Solicitada", "approved": "Aprobada, aún no depositada", "posted": "Depositada",
        "expected": "Cancelada, reembolso pendiente", "returned": "Devuelta", "refused": "número A",
    },
}  # fmt: skip


def _user(email, *, language, staff_role=None, foundation=None):
    user = UserFactory(email=email, preferred_language=language, is_staff=staff_role is not None)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if staff_role:
        add_staff(user, foundation=foundation, role=staff_role)
        profile = UserProfile.get_for_user(user)
        profile.preferred_language = language  # Wagtail's admin speaks the staff member's language
        profile.save()
    return user


@pytest.fixture(params=["en", "es"])
def bond_fund(request, e2e_site):
    language = request.param
    foundation = FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    fund = FundFactory(foundation=foundation, name="Community Bond Fund", program_type=ProgramType.BOND_FUND)
    officer = _user(f"olga-{language}@foundation.example", language=language, staff_role=Role.PROGRAM_OFFICER,
                    foundation=foundation)  # fmt: skip
    finance = _user(f"felipe-{language}@foundation.example", language=language, staff_role=Role.FINANCE_OFFICER,
                    foundation=foundation)  # fmt: skip
    member = _user(f"lupe-{language}@partner.example", language=language)
    partner = OrganizationFactory(name="Comité de Defensa")
    OrganizationMembership.objects.create(organization=partner, user=member, role="owner")
    ledger.record_income(fund=fund, amount=Money(20000, "USD"), source="grant", received_on=datetime.date(2026, 1, 2),
                         reference="GRANT-1", by=finance)  # fmt: skip
    bonds.add_partner(foundation=foundation, organization=partner, by=officer)
    return {"language": language, "fund": fund, "officer": officer, "finance": finance, "member": member,
            "partner": partner, "words": WORDS[language]}  # fmt: skip


def _screenshot(page, name):
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    Path(folder).mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    image.save(Path(folder) / f"{name}.png", format="PNG", optimize=True)


def _context(browser, locale, viewport):
    context = browser.new_context(locale=locale, viewport=viewport, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _partner_asks(browser, url, world):
    language, words, partner = world["language"], world["words"], world["partner"]
    context, page = _context(browser, words["locale"], PHONE)
    page.goto(url(f"/{language}/accounts/login/?next=/{language}/organizations/{partner.pk}/bonds/"))
    page.locator("input[name=login]").fill(world["member"].email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(url(f"/{language}/organizations/{partner.pk}/bonds/"))
    assert_accessible(page)
    page.goto(url(f"/{language}/organizations/{partner.pk}/bonds/new/"))
    expect(page.locator("#never-identify")).to_contain_text(words["warning"])
    assert_accessible(page)
    form = page.locator("#bond-request-form")
    form.locator("input[name=amount]").fill(words["amount"])
    form.locator("select[name=urgency]").select_option("today")
    form.locator("[name=facility]").fill("Adelanto ICE Processing Center")
    form.locator("select[name=obligor]").select_option("foundation")
    form.locator("[name=label]").fill("Familia R, A-123-456-789")
    form.locator("[name=notes]").fill("Audiencia el lunes")
    page.locator("#send-bond-request").click()
    # Refused, with everything typed kept and nothing stored.
    expect(page.locator("main")).to_contain_text(words["refused"])
    expect(page.locator("[name=facility]")).to_have_value("Adelanto ICE Processing Center")
    expect(page.locator("input[name=amount]")).to_have_value(words["amount"])
    assert not Bond.objects.exists()
    assert_accessible(page)
    _screenshot(page, f"bond-request-refused-{language}-phone")
    page.locator("[name=label]").fill("Familia R, Adelanto")
    page.locator("#send-bond-request").click()
    expect(page).to_have_url(url(f"/{language}/organizations/{partner.pk}/bonds/"))
    expect(page.locator("main")).to_contain_text("Familia R, Adelanto")
    expect(page.locator("main")).to_contain_text(words["requested"])
    assert_accessible(page)
    _screenshot(page, f"bond-list-{language}-phone")
    context.close()
    bond = Bond.objects.get()
    assert bond.amount == Money("7500.00", "USD") and bond.label == "Familia R, Adelanto"
    return bond


def _settled(page):
    """Wagtail fades its messages in: axe measures once every transition ended."""
    page.wait_for_function(
        "() => document.getAnimations().filter(a => a.playState === 'running').length === 0"
    )
    assert_accessible(page)


def _staff_page(browser, url, world, user):
    context, page = _context(browser, world["words"]["locale"], WIDE)
    sign_in_staff(page, url, user)
    return context, page


def test_a_bond_from_request_to_refund(bond_fund, url, browser):
    world, words = bond_fund, bond_fund["words"]
    bond = _partner_asks(browser, url, world)

    # The officer sees the request on the clock and approves it.
    context, page = _staff_page(browser, url, world, world["officer"])
    page.goto(url("/admin/bonds/"))
    expect(page.locator("main")).to_contain_text(bond.reference_code)
    _settled(page)
    page.goto(url(f"/admin/bonds/{bond.pk}/"))
    expect(page.locator("#bond-reference-value")).not_to_contain_text("CeBONDS")
    page.locator("#bond-approve-submit").click()
    expect(page.locator("#bond-status")).to_have_text(words["approved"])
    _settled(page)
    context.close()

    # Finance posts it with the government's reference, then records the cancellation and refund.
    context, page = _staff_page(browser, url, world, world["finance"])
    page.goto(url(f"/admin/bonds/{bond.pk}/"))
    form = page.locator("#bond-post-form")
    form.locator("select[name=post-method]").select_option("wire")
    form.locator("input[name=post-reference]").fill("CeBONDS 4471-K")
    page.locator("#bond-post-submit").click()
    expect(page.locator("#bond-status")).to_have_text(words["posted"])
    expect(page.locator("#bond-reference-value")).to_contain_text("CeBONDS 4471-K")
    _settled(page)
    today = datetime.date.today().isoformat()
    page.locator("#bond-cancel-form input[name=cancel-cancelled_on]").fill(today)
    page.locator("#bond-cancel-submit").click()
    expect(page.locator("#bond-status")).to_have_text(words["expected"])
    form = page.locator("#bond-refund-form")
    form.locator("input[name=refund-received_on]").fill(today)
    form.locator("input[name=refund-principal]").fill(words["amount"])
    form.locator("input[name=refund-interest]").fill(words["interest"])
    form.locator("input[name=refund-receipt]").fill("Treasury check 80211")
    page.locator("#bond-refund-submit").click()
    expect(page.locator("#bond-status")).to_have_text(words["returned"])
    _settled(page)
    _screenshot(page, f"bond-finance-{world['language']}-wide")
    context.close()

    bond.refresh_from_db()
    assert bond.status == BondStatus.RETURNED
    b = ledger.balances(world["fund"])
    assert b.bonds_out == Money(0, "USD") and b.bond_interest == Money("12.34", "USD")
    assert b.cash == Money("20012.34", "USD")
