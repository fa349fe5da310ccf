"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Run them with ``FUNDPORTAL_TESTING=1 .venv/bin/python -m pytest tests/e2e``. They never download a
browser: Chromium comes from the system package (``scripts/ensure-tools.sh``).

Fixtures here:

* ``e2e_site``: the bilingual page tree (``tests.pages.build_site``) in a transactional database
  the live server can see;
* ``open_call``: a fund with one open call (5,000 to 50,000 USD, closing on 15 December next year
  at 17:00 Los Angeles time), its fund and call pages in English and Spanish;
* ``url``: turns a path into a live-server address.

Accessibility: ``from tests.e2e.axe import assert_accessible`` (also exposed as the fixture of the
same name) fails on serious or critical axe-core findings.
"""

import datetime
import os
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone
from djmoney.money import Money
from wagtail.models import Page

from tests import factories, pages
from tests.e2e.axe import assert_accessible as _assert_accessible

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

E2E_DIR = Path(__file__).parent


def pytest_configure(config):
    # pytest-playwright's own base_url fixture trips a pytest 9 deprecation; nothing to fix here.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning",
    )


def _is_e2e(item) -> bool:
    return E2E_DIR in Path(str(item.path)).parents


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/e2e ``e2e`` (``-m "not e2e"`` skips the browser) and run them last.

    Once Playwright starts, its event loop stays current in the test thread for the rest of the
    session, and Django only touches the database there with DJANGO_ALLOW_ASYNC_UNSAFE set. Running
    the browser tests last keeps that setting away from every other test (and their subprocesses).
    """
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
    items[:] = [item for item in items if not _is_e2e(item)] + [item for item in items if _is_e2e(item)]


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in the test thread; let the ORM run there too."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The system Chromium, headless unless ``--headed``, with no background network chatter."""
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


# Every document reports Content Security Policy violations to the console, where the fixture
# below collects them (with Chromium's own "Refused to ..." messages).
CSP_VIOLATION_TAG = "[csp-violation]"
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error(TAG + " " + JSON.stringify({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
    page: document.location.href
  }));
}, true);
""".replace("TAG", f'"{CSP_VIOLATION_TAG}"', 1)


def _is_csp_violation(text: str) -> bool:
    return text.startswith(CSP_VIOLATION_TAG) or "Content Security Policy" in text


@pytest.fixture(autouse=True)
def _fail_on_csp_violations(browser):
    """Every browser test fails if a page broke the Content Security Policy.

    Watches every context the test opens (pytest-playwright's ``context``/``page`` and the ones
    tests open themselves with ``browser.new_context``).
    """
    violations = []
    new_context = browser.new_context

    def watched_new_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        context.on(
            "console",
            lambda message: violations.append(message.text) if _is_csp_violation(message.text) else None,
        )
        return context

    browser.new_context = watched_new_context
    try:
        yield violations
    finally:
        del browser.new_context  # back to the class's method
    assert not violations, "Content Security Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(page):
    """Playwright's page, failing fast: a missing element fails in 10 s, not 30."""
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(20_000)
    return page


@pytest.fixture
def url(live_server):
    def build(path: str) -> str:
        return live_server.url + path

    return build


@pytest.fixture
def e2e_site(transactional_db, live_server):
    """The page tree in English and Spanish, visible to the live server.

    Transactional tests empty every table afterwards, including the page tree root Wagtail's
    migrations create, so put it back before building the site.
    """
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root", locale=pages.locales()["en"]))
    return pages.build_site()


@dataclass
class OpenCall:
    fund: object
    call: object
    fund_page: object
    fund_page_es: object
    call_page: object
    call_page_es: object
    close_date: datetime.date


@pytest.fixture
def open_call(e2e_site) -> OpenCall:
    """One fund with one open call, published in English and Spanish."""
    tz = zoneinfo.ZoneInfo("America/Los_Angeles")
    close_date = datetime.date(timezone.now().year + 1, 12, 15)
    fund = factories.FundFactory(name="Deportation Defense Fund", slug="deportation-defense")
    call = factories.FundingCallFactory(
        fund=fund,
        title="Rapid legal defense grants",
        opens_at=timezone.now() - datetime.timedelta(days=10),
        closes_at=datetime.datetime.combine(close_date, datetime.time(17, 0), tzinfo=tz),
        time_zone="America/Los_Angeles",
        min_amount=Money(5000, "USD"),
        max_amount=Money(50000, "USD"),
    )
    fund_page, fund_page_es = pages.add_fund_page(
        e2e_site, fund, title="Deportation Defense Fund", title_es="Fondo de defensa contra la deportación"
    )
    call_page, call_page_es = pages.add_call_page((fund_page, fund_page_es), call, slug="rapid-legal")
    call_page_es.title = "Subvenciones rápidas de defensa legal"
    pages.publish(call_page_es)
    return OpenCall(fund, call, fund_page, fund_page_es, call_page, call_page_es, close_date)


@pytest.fixture
def assert_accessible():
    """The ``tests.e2e.axe.assert_accessible`` helper, for tests that prefer a fixture."""
    return _assert_accessible
