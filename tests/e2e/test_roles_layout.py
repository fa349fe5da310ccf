"""Every role's main pages on a phone (390 px) and a wide screen (1280 px), in English and Spanish.

On the demo data (``seed_demo``), each person signs in once (staff with their authenticator code)
and visits the pages of their day: the grantee their dashboard, awards, report, stipends and
group; the donor the public pages and the gift form; staff the admin home and the listings of
their area. On each page, at both widths: no serious or critical axe finding
(``tests.e2e.axe``), nothing wider than the window and no table cut off outside a focusable
scroll region (``tests.e2e.layout``). Every problem of every page is gathered and reported
together, so one run shows the whole picture. The last test shows the layout check failing on
small pages built to be too wide (and passing a wide table in a focusable region).

The home page of each role is saved as ``docs/screenshots/home-<role>-<en|es>-<narrow|wide>.png``
when ``FUNDPORTAL_SCREENSHOTS`` names a folder::

    FUNDPORTAL_TESTING=1 FUNDPORTAL_SCREENSHOTS=docs/screenshots \\
        .venv/bin/python -m pytest tests/e2e/test_roles_layout.py
"""

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.users.models import UserProfile

from cms.models import FundPage
from grants.management.commands.seed_demo import DEMO_PASSWORD
from grants.models import (
    Application,
    Award,
    Donation,
    Fund,
    Installment,
    Organization,
    ReportDueDate,
    StipendBatch,
    StipendProgram,
    User,
)
from tests import pages
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import layout_problems
from tests.e2e.staff_login import sign_in_staff

pytestmark = pytest.mark.e2e

NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
LANGUAGES = ("en", "es")


@dataclass
class Role:
    name: str  # for screenshots: home-<name>-…
    email: str | None  # None: a visitor who does not sign in
    staff: bool
    paths: list[str]  # the first is the role's home; public paths start with {lang}


@pytest.fixture
def demo(transactional_db, live_server, settings):
    settings.DEMO_MODE = True
    pages.ensure_roots()  # transactional tests empty every table, Wagtail's roots included
    call_command("seed_demo", stdout=io.StringIO())


def _roles() -> list[Role]:
    defense = Fund.objects.get(slug="deportation-defense")
    foundation = defense.foundation
    offered = Award.objects.get(application__organization__name="Comité de Defensa del Barrio")
    active = Award.objects.get(application__organization__name="East Bay Hotline Collective")
    waiting = Application.objects.get(organization__name="Oakland Workers Legal Clinic")
    report = ReportDueDate.objects.filter(award=active).order_by("due_date").first()
    collective = Organization.objects.get(name="East Bay Hotline Collective")
    program = StipendProgram.objects.get()
    batch = StipendBatch.objects.get()
    donation = Donation.objects.filter(fund=defense).order_by("pk").first()
    fund_page = FundPage.objects.get(fund=defense, locale__language_code="en")
    fund_path = "/{lang}" + fund_page.get_url_parts()[2].removeprefix("/en")
    assert Installment.objects.filter(award=active).exists()
    return [
        Role("grantee", "applicant@demo.fundportal.org", False, [
            "/{lang}/dashboard/", f"/{{lang}}/awards/{offered.pk}/", f"/{{lang}}/awards/{active.pk}/",
            f"/{{lang}}/reports/{report.pk}/", f"/{{lang}}/applications/{waiting.pk}/", "/{lang}/stipends/",
            f"/{{lang}}/stipends/{program.pk}/{collective.pk}/",
            f"/{{lang}}/stipends/{program.pk}/{collective.pk}/volunteers/",
            f"/{{lang}}/organizations/{collective.pk}/",
        ]),
        Role("donor", None, False, [
            "/{lang}/", fund_path, f"/{{lang}}/donate/{foundation.slug}/{defense.slug}/",
            f"/{{lang}}/transparency/{foundation.slug}/", f"/{{lang}}/transparency/{foundation.slug}/{defense.slug}/",
            "/{lang}/donate/manage/",
        ]),
        Role("officer", "officer@demo.fundportal.org", True, [
            "/admin/", "/admin/applications/", f"/admin/applications/inspect/{waiting.pk}/", "/admin/reviews/",
            "/admin/awards/", f"/admin/awards/inspect/{active.pk}/", "/admin/reports/", "/admin/stipends/",
            f"/admin/stipends/{program.pk}/", f"/admin/stipends/batches/{batch.pk}/",
        ]),
        Role("reviewer", "reviewer@demo.fundportal.org", True, ["/admin/", "/admin/reviews/"]),
        Role("finance", "finance@demo.fundportal.org", True, [
            "/admin/", "/admin/payments/", "/admin/payments/review/", "/admin/payments/disbursements/",
            "/admin/payments/reconciliation/", "/admin/payments/webhooks/", "/admin/payments/payees/",
            "/admin/fund-money/", f"/admin/fund-money/{defense.pk}/", "/admin/donations/",
            f"/admin/donations/{donation.pk}/",
        ]),
        Role("auditor", "auditor@demo.fundportal.org", True, [
            "/admin/", "/admin/exports/", "/admin/activity/", "/admin/donations/",
        ]),
        Role("foundation-admin", "foundation-admin@demo.fundportal.org", True, [
            "/admin/", "/admin/foundations/", "/admin/privacy/",
        ]),
    ]  # fmt: skip


def _sign_in(page, url, role: Role, language: str) -> None:
    if role.email is None:
        return
    if role.staff:
        user = User.objects.get(email=role.email)
        sign_in_staff(page, url, user, password=DEMO_PASSWORD)
        return
    page.goto(url(f"/{language}/accounts/login/?next=/{language}/dashboard/"))
    page.locator("input[name=login]").fill(role.email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(url(f"/{language}/dashboard/"))


def _speak(role: Role, language: str) -> None:
    """Staff read the admin in their profile's language."""
    if role.staff:
        profile = UserProfile.get_for_user(User.objects.get(email=role.email))
        profile.preferred_language = language
        profile.save(update_fields=["preferred_language"])


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(out / f"{name}.png", format="PNG", optimize=True)


def _check(page, where: str) -> list[str]:
    # Wagtail fades its messages in (opacity, then colour): measure once every transition ended.
    page.wait_for_function(
        "() => document.getAnimations().filter(a => a.playState === 'running').length === 0"
    )
    problems = [f"{where}: {problem}" for problem in layout_problems(page)]
    try:
        assert_accessible(page)
    except AssertionError as finding:
        problems.append(f"{where}: {finding}")
    return problems


def test_every_role_on_phone_and_wide_screen_in_both_languages(demo, url, browser):
    problems = []
    for role in _roles():
        # Reduced motion: Wagtail's messages fade in, and axe would measure a half-faded colour.
        context = browser.new_context(viewport=NARROW, reduced_motion="reduce")
        page = context.new_page()
        page.set_default_timeout(10_000)
        _sign_in(page, url, role, "en")
        for language in LANGUAGES:
            _speak(role, language)
            for number, path in enumerate(role.paths):
                path = path.replace("{lang}", language)
                page.set_viewport_size(NARROW)
                response = page.goto(url(path))
                if response is None or response.status != 200:
                    problems.append(f"{role.name} {path}: answered {response and response.status}")
                    continue
                for size_name, size in (("narrow", NARROW), ("wide", WIDE)):
                    page.set_viewport_size(size)
                    problems += _check(page, f"{role.name} {path} at {size['width']} px")
                    if number == 0:
                        _screenshot(page, f"home-{role.name}-{language}-{size_name}")
        context.close()
    assert not problems, f"{len(problems)} problem(s):\n\n" + "\n\n".join(problems)


WIDE_TABLE = "<table><tr>" + "<td>11.000,00&nbsp;US$</td>" * 8 + "</tr></table>"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"<main>{WIDE_TABLE}</main>", ["the page is", "main > table runs"]),
        (
            f'<div class="clip" style="overflow-x:auto">{WIDE_TABLE}</div>',
            ["is cut off inside html > body > div.clip", "div.clip scrolls sideways"],
        ),
        (
            f'<div class="clip" style="overflow-x:hidden">{WIDE_TABLE}</div>',
            ["cut off inside html > body > div.clip"],
        ),
        ('<div id="wide" style="width:900px">x</div>', ["div#wide (right edge at 908 px)"]),
        (
            f'<div style="overflow-x:auto" tabindex="0" role="region" aria-label="Money">{WIDE_TABLE}</div>',
            [],
        ),
        ('<table class="stack"><tr><td>short</td></tr></table>', []),
    ],
)
def test_the_layout_check_finds_what_is_wider_than_a_phone(page, body, expected):
    page.set_viewport_size(NARROW)
    page.set_content(f"<!doctype html><html><body style='margin:8px'>{body}</body></html>")
    problems = layout_problems(page)
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected, strict=True):
        assert words in problem, problem
