"""Each foundation's section of the site, on the demo data, in the browser.

The Central Valley program officer publishes a page in their foundation's section and the public
sees it; Bay Area's section is not in their explorer and its edit and add pages answer 404. The
Bay Area officer does the same the other way round. Public pages pass axe; Wagtail's own admin
pages have their axe findings printed.

With ``FUNDPORTAL_SCREENSHOTS=docs/screenshots`` the section page is also saved in English and
Spanish, on a phone (390 px) and a desktop (1280 px), as ``foundation-section-<lang>-<size>.png``::

    FUNDPORTAL_TESTING=1 FUNDPORTAL_SCREENSHOTS=docs/screenshots \\
        .venv/bin/python -m pytest tests/e2e/test_foundation_sections.py
"""

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from wagtail.models import Page

from cms.models import FoundationPage, StandardPage
from grants.management.commands.seed_demo import DEMO_PASSWORD
from grants.models import User
from tests import pages
from tests.e2e.axe import assert_accessible, axe_violations, format_violations
from tests.e2e.staff_login import sign_in_staff

pytestmark = pytest.mark.e2e

VIEWPORTS = {"narrow": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}


@pytest.fixture
def demo(transactional_db, live_server, settings):
    settings.DEMO_MODE = True
    pages.ensure_roots()  # transactional tests empty every table, Wagtail's roots included
    call_command("seed_demo", stdout=io.StringIO())
    return {
        code: FoundationPage.objects.get(foundation__slug=slug, locale__language_code="en")
        for code, slug in (("valley", "valley-workers"), ("bay", "bay-area-defense"))
    }


def screenshot(page, name: str) -> None:
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for size_name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(out / f"foundation-section-{name}-{size_name}.png", format="PNG", optimize=True)
    page.set_viewport_size(before)


def report_admin_page(page) -> None:
    """Wagtail's own admin markup: axe's findings are printed, not failed on."""
    violations = axe_violations(page)
    if violations:
        print(
            f"\naxe on admin page {page.url}: {len(violations)} finding(s)\n{format_violations(violations)}"
        )


def publish_in_own_section(page, url, own, other, *, title, slug) -> None:
    """Add and publish a standard page under ``own``; ``other`` stays out of reach."""
    page.goto(url(f"/admin/pages/{own.pk}/"))
    expect(page.get_by_role("link", name=own.title).first).to_be_visible()
    report_admin_page(page)
    page.goto(url(f"/admin/pages/add/cms/standardpage/{own.pk}/"))
    page.locator("#id_title").fill(title)
    page.locator("#id_title").press("Tab")  # Wagtail makes the slug (on the Promote tab) from the title
    expect(page.locator("#id_slug")).to_have_value(slug)
    report_admin_page(page)
    page.locator("button[name='action-publish']").evaluate("button => button.click()")
    expect(page).to_have_url(re.compile(rf"/admin/pages/{own.pk}/$"))
    made = StandardPage.objects.get(slug=slug)
    assert made.get_parent().pk == own.pk and made.live

    public = page.goto(url(f"/en/{own.slug}/{slug}/"))
    assert public.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert_accessible(page)

    # The other foundation's section: its pages are not found, and the explorer does not list it.
    others_pages = set(
        Page.objects.descendant_of(other, inclusive=True).values_list("pk", "latest_revision_id")
    )
    for path in (f"/admin/pages/{other.pk}/edit/", f"/admin/pages/add/cms/standardpage/{other.pk}/"):
        response = page.goto(url(path))
        assert response.status == 404, path
        assert other.title not in page.content()
    assert set(Page.objects.descendant_of(other, inclusive=True).values_list("pk", "latest_revision_id")) == (
        others_pages
    )
    page.goto(url(f"/admin/pages/{own.get_parent().pk}/"))
    expect(page.get_by_role("link", name=own.title).first).to_be_visible()
    report_admin_page(page)
    assert page.get_by_role("link", name=other.title).count() == 0


def test_each_officer_publishes_in_their_own_section_only(demo, url, browser):
    valley, bay = demo["valley"], demo["bay"]

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    vera = User.objects.get(email="officer@valley.demo.fundportal.org")
    sign_in_staff(page, url, vera, password=DEMO_PASSWORD)
    publish_in_own_section(page, url, valley, bay, title="Volunteer days", slug="volunteer-days")
    context.close()

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    olga = User.objects.get(email="officer@demo.fundportal.org")
    sign_in_staff(page, url, olga, password=DEMO_PASSWORD)
    publish_in_own_section(page, url, bay, valley, title="Court watch", slug="court-watch")
    context.close()


def test_the_section_page_in_both_languages(demo, url, page):
    for language, heading in (("en", "Our funds"), ("es", "Nuestros fondos")):
        page.goto(url(f"/{language}/bay-area-defense/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Bay Area Immigrant Defense Foundation")
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
        expect(page.locator("a[href^='mailto:grants@bayarea-defense.example.org']")).to_be_visible()
        expect(page.locator(f"a[href='/{language}/transparency/bay-area-defense/']")).to_be_visible()
        assert "Central Valley" not in page.locator("main").inner_text()
        assert_accessible(page)
        page.set_viewport_size(VIEWPORTS["narrow"])
        overflow = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert overflow[0] <= overflow[1], f"too wide on a phone: {overflow}"
        page.set_viewport_size(VIEWPORTS["wide"])
        screenshot(page, language)
