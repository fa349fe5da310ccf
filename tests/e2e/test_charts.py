"""The charts in the browser: on a phone and a wide screen, in English and Spanish, each passes axe,
fits its box, and keeps its figures in a table beside it.

With ``FUNDPORTAL_SCREENSHOTS=docs/screenshots`` the test saves each chart as
``charts-<which>-<en|es>-<narrow|wide>.png`` (the chart with its table opened)::

    FUNDPORTAL_TESTING=1 FUNDPORTAL_SCREENSHOTS=docs/screenshots \\
        .venv/bin/python -m pytest tests/e2e/test_charts.py -p no:randomly
"""

import datetime
import io
import os
from pathlib import Path

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.utils import timezone
from djmoney.money import Money
from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from grants.models import Award, ProgramType, Role
from grants.services import awards, ledger, offline_gifts
from grants.services.staff import add_staff
from tests import pages
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import sign_in_staff
from tests.factories import (
    FoundationFactory,
    FundFactory,
    OrganizationFactory,
    UserFactory,
    approved_application,
)

VIEWPORTS = {"narrow": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}
MIN = 3


def usd(amount) -> Money:
    return Money(str(amount), "USD")


def save(figure, name: str) -> None:
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    # A tall window, so the chart is in view without scrolling (the admin's sticky header would
    # cover the top of a chart scrolled to), then a clip of the page around the chart.
    page = figure.page
    before = page.viewport_size
    page.set_viewport_size({"width": before["width"], "height": 2400})
    figure.evaluate("element => element.scrollIntoView({block: 'center'})")
    shot = page.screenshot(clip=figure.bounding_box())
    page.set_viewport_size(before)
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(out / f"{name}.png", format="PNG", optimize=True)


def look(page, which: str, language: str, *, svgs: int = 1) -> None:
    """On both sizes: axe, the chart within the viewport, its table there; a screenshot of each chart."""
    for size_name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        figures = page.locator("figure.fp-chart")
        expect(figures.first).to_be_visible()
        assert page.locator("figure.fp-chart svg[role=img]").count() == svgs
        for details in page.locator("figure.fp-chart details").all():
            if details.get_attribute("open") is None:
                details.locator("summary").click()
        assert_accessible(page)
        for index in range(figures.count()):
            figure = figures.nth(index)
            box = figure.locator("svg[role=img]").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (which, size_name, box)
            expect(figure.locator("table")).to_be_visible()
            suffix = f"-{index + 1}" if figures.count() > 1 else ""
            save(figure, f"charts-{which}{suffix}-{language}-{size_name}")


def grant(fund, officer, amount, offered, name):
    application = approved_application(
        fund, decided_by=officer, amount=usd(amount), organization=OrganizationFactory(name=name)
    )
    with time_machine.travel(offered, tick=False):  # committed in the month it was offered
        award = awards.make_award(
            application,
            by=officer,
            amount=usd(amount),
            start_date=datetime.date(2026, 2, 1),
            end_date=datetime.date(2027, 1, 31),
            schedule=[(datetime.date(2026, 2, 1), usd(amount))],
            report_dates=[("final", datetime.date(2027, 3, 1))],
        )
    Award.objects.filter(pk=award.pk).update(offered_at=offered)
    return award


def staff(foundation, role, email, language):
    user = UserFactory(is_staff=True, email=email, preferred_language=language)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    add_staff(user, foundation=foundation, role=role)
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    return user


@pytest.fixture
def money_world(e2e_site, settings):
    """A foundation with two funds: a year of income, gifts and awards (one quarter hides a grant)."""
    settings.TRANSPARENCY_MIN_GROUP = MIN
    foundation = FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    defense = FundFactory(foundation=foundation, name="Deportation Defense Fund", slug="defense",
                          program_type=ProgramType.DEPORTATION_DEFENSE, currency="USD")  # fmt: skip
    hotline = FundFactory(foundation=foundation, name="Hotline Fund", slug="hotline",
                          program_type=ProgramType.HOTLINE_STIPENDS, currency="USD")  # fmt: skip
    finance = staff(foundation, Role.FINANCE_OFFICER, "fran@foundation.example", "en")
    finance_es = staff(foundation, Role.FINANCE_OFFICER, "fina@foundation.example", "es")
    officer = staff(foundation, Role.PROGRAM_OFFICER, "olga@foundation.example", "en")
    year = timezone.localdate().year
    for fund, opening in ((defense, 60000), (hotline, 25000)):
        ledger.record_income(fund=fund, amount=usd(opening), source="grant", received_on=datetime.date(year, 1, 8),
                             reference=f"GRANT-{fund.slug}", by=finance)  # fmt: skip
    for month, amount in (
        (2, 850),
        (3, 1200),
        (5, 400),
        (6, 2300),
        (8, 950),
        (9, 1750),
        (11, 3100),
        (12, 600),
    ):
        offline_gifts.record_offline_gift(
            fund=defense, donor_name="Dana Donor", donor_email=f"dana{month}@example.org", amount=usd(amount),
            channel="check", reference=f"CHK-{month}", received_on=datetime.date(year, month, 3), by=finance,
            send_receipt=False,
        )  # fmt: skip

    def at(month):
        return timezone.make_aware(datetime.datetime(year, month, 15, 12))

    for number, (month, amount) in enumerate(
        [(2, 4000), (2, 3500), (3, 5000), (5, 6000), (5, 2500), (6, 4500)]
    ):
        grant(defense, officer, amount, at(month), f"Defense group {number}")
    grant(defense, officer, 7777, at(8), "Lonely group")
    for number, (month, amount) in enumerate(
        [(1, 1200), (2, 1500), (3, 900), (10, 2000), (11, 1800), (12, 1100)]
    ):
        grant(hotline, officer, amount, at(month), f"Hotline group {number}")
    fund_pages = pages.add_fund_page(e2e_site, defense, title_es="Fondo de defensa contra la deportación")
    return {"foundation": foundation, "fund": defense, "finance": finance, "finance_es": finance_es,
            "fund_pages": fund_pages}  # fmt: skip


def test_charts_on_every_screen_in_both_languages(money_world, url, browser):
    fund = money_world["fund"]
    for language, user in (("en", money_world["finance"]), ("es", money_world["finance_es"])):
        context = browser.new_context(
            locale="es-ES" if language == "es" else "en-US", viewport=VIEWPORTS["wide"]
        )
        page = context.new_page()
        sign_in_staff(page, url, user)
        page.goto(url(f"/admin/fund-money/{fund.pk}/"))
        look(page, "fund-money", language)
        page.goto(url("/admin/donations/"))
        look(page, "donations", language)
        prefix = f"/{language}"
        page.goto(url(f"{prefix}/transparency/bay-area/"))
        look(page, "transparency", language)
        body = page.locator("main").inner_text()
        assert "7,777" not in body and "7.777" not in body
        fund_page = money_world["fund_pages"][0 if language == "en" else 1]
        page.goto(url(fund_page.url))
        look(page, "fund-page", language)
        context.close()
