"""Browser journey: an officer whose admin language is Spanish edits a fund's goal in Wagtail's
editor. The goal is shown "250.000,00"; an ambiguous "1,500" is refused with the text kept;
"12.000" is stored as 12000.

With ``FUNDPORTAL_SCREENSHOTS=docs/screenshots`` it saves ``amount-editor-es-<narrow|wide>.png``.
"""

import io
import os
from pathlib import Path

from allauth.account.models import EmailAddress
from djmoney.money import Money
from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from grants.models import Fund, Role
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import sign_in_staff
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import staff

VIEWPORTS = {"narrow": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}


def _screenshots(page, name):
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    Path(folder).mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for size_name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        image.save(Path(folder) / f"{name}-{size_name}.png", format="PNG", optimize=True)
    page.set_viewport_size(VIEWPORTS["wide"])


def test_a_spanish_officer_types_the_goal_the_spanish_way(transactional_db, live_server, url, browser):
    foundation = FoundationFactory(slug="bay")
    fund = FundFactory(foundation=foundation, name="Bond Fund", currency="USD",
                       fundraising_goal=Money("250000", "USD"))  # fmt: skip
    officer = staff(foundation, Role.FOUNDATION_ADMIN)
    EmailAddress.objects.create(user=officer, email=officer.email, verified=True, primary=True)
    profile = UserProfile.get_for_user(officer)
    profile.preferred_language = "es"
    profile.save()
    context = browser.new_context(
        locale="es-MX", viewport=VIEWPORTS["wide"], reduced_motion="reduce"
    )  # messages measured after their fade-in
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in_staff(page, url, officer, next_path=f"/admin/funds/edit/{fund.pk}/")
    page.goto(url(f"/admin/funds/edit/{fund.pk}/"))

    goal = page.locator("input[name=fundraising_goal]")
    expect(goal).to_have_value("250.000,00")
    expect(goal).to_have_attribute("inputmode", "decimal")
    expect(page.locator("main")).to_contain_text("En USD, por ejemplo 1.500,75.")
    assert_accessible(page)

    goal.fill("1,500")
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("podría significar 1.500 o 1,5")
    expect(page.locator("input[name=fundraising_goal]")).to_have_value("1,500")
    assert Fund.objects.get(pk=fund.pk).fundraising_goal == Money("250000", "USD")
    # Wagtail fades its messages in (opacity, then colour): measure once every transition ended.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.messages li')].every(li => getComputedStyle(li).opacity === '1')"
        " && document.getAnimations().filter(a => a.playState === 'running').length === 0"
    )
    _screenshots(page, "amount-editor-es")
    assert_accessible(page)

    page.locator("input[name=fundraising_goal]").fill("12.000")
    page.locator("main button[type=submit]").first.click()
    expect(page).to_have_url(url("/admin/funds/"))
    assert Fund.objects.get(pk=fund.pk).fundraising_goal == Money("12000", "USD")
    context.close()
