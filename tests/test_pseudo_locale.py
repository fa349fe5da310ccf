"""Adding a language is configuration and a catalogue, not code: with a pseudo-language whose
catalogue brackets and accents every message (tests/pseudo_locale.py), every page of the portal
— public, applicant, grantee, donor and staff — shows no visible word that did not come from a
catalogue or from the data (names, titles, answers, page bodies).

The pages are the URL matrix's (tests/url_matrix): every pattern asked with GET as the first
person the matrix lets in, plus every live page of the page tree, all under ``/en-xa/``, with
every person's language (and Wagtail admin language) set to the pseudo-language.
"""

import re

import pytest
from django.core.cache import cache
from django.db import transaction
from django.template import Context
from django.template.loader import get_template
from django.test import override_settings
from django.utils import translation
from wagtail.models import Page
from wagtail.users.models import UserProfile

from tests import pages, pseudo_locale
from tests.url_matrix import matrix
from tests.url_matrix.probe import all_patterns, signed_in_clients
from tests.url_matrix.table import OK, ROLES
from tests.url_matrix.world import build_world

REQUIRED = "This field is required."  # Django's own message
PREFIX = f"/{pseudo_locale.CODE}/"
# Who asks: the rightful people first, so each page is seen with its data.
ASKERS = [
    "applicant", "reviewer_assigned", "officer_A", "finance_A", "auditor_A", "admin_A", "anonymous",
    "applicant_other_org", "reviewer_unassigned", "officer_B", "finance_B", "auditor_B",
]  # fmt: skip
assert sorted(ASKERS) == sorted(ROLES)
# Previews show a page in its own language (an English page in English), whatever the staff's.
PREVIEWS = re.compile(r"/view_draft/|/revisions/\d+/view/|/preview/")


@pytest.fixture(scope="module")
def pseudo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pseudo-locale")
    pseudo_locale.build_catalogue(directory)
    with override_settings(**pseudo_locale.pseudo_settings(directory)):
        translation.trans_real._translations = {}
        yield directory
    translation.trans_real._translations = {}


@pytest.fixture(scope="module")
def world(pseudo, django_db_setup, django_db_blocker):
    """The URL matrix's world, built in English, then every person's language set to the
    pseudo-language; ``emails`` holds (template, context) of every email its flows rendered."""
    from unittest import mock

    from django.template import loader
    from django.test import TestCase

    from grants.services import notifications

    calls = []
    real = loader.render_to_string

    def record(template_name, context=None, *args, **kwargs):
        calls.append((template_name, dict(context or {})))
        return real(template_name, context, *args, **kwargs)

    with django_db_blocker.unblock(), translation.override("en"), transaction.atomic():
        with (
            mock.patch.object(notifications, "render_to_string", record),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            built = build_world(pages.build_site())
        for user in built["users"].values():
            if user is not None:
                user.preferred_language = pseudo_locale.CODE
                user.save(update_fields=["preferred_language"])
                UserProfile.get_for_user(user).__class__.objects.filter(user=user).update(
                    preferred_language=pseudo_locale.CODE
                )
        built["user_content"] = pseudo_locale.user_content()
        built["emails"] = calls
        yield built
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    with django_db_blocker.unblock():
        return signed_in_clients(world, raise_request_exception=True)


def pseudo_url(url: str) -> str:
    return PREFIX + url[len("/en/") :] if url.startswith("/en/") else url


def get(client, url):
    with transaction.atomic():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=pseudo_locale.CODE)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return response, body


def readable(response) -> bool:
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")


def page_requests(world):
    """(url, role) for every GET the matrix lets someone have, asked as the first such person."""
    for pattern in all_patterns():
        entry = matrix.entry_for(pattern.route)
        if entry is None:
            continue
        for request in matrix.requests_for(entry, pattern.route, world):
            if request.method != "GET":
                continue
            allowed = [role for role in ASKERS if request.expected[role] == OK]
            if allowed and not PREVIEWS.search(request.url):
                yield pattern.route, pseudo_url(request.url), allowed[0]


def test_the_pseudo_language_brackets_every_message(pseudo):
    with translation.override(pseudo_locale.CODE):
        assert translation.gettext("Funding calls").startswith(pseudo_locale.OPEN)
        assert translation.gettext(REQUIRED) == pseudo_locale.pseudo(REQUIRED)
    assert pseudo_locale.pseudo("Hi %(name)s <b>now</b>") == "⟦Ĥí %(name)s <b>ñóŵ</b>⟧"


def test_the_reader_finds_untranslated_words():
    """Control: the check fails on an English sentence and passes translated text and data."""
    document = (
        "<main><h1>⟦Ĥéĺĺó⟧ Comité de Defensa</h1><p>Apply now</p>"
        "<input type=submit value='Send'><script>var x = 'code';</script>"
        "<p>1,500.00 USD · ana@example.org</p></main>"
    )
    problems = pseudo_locale.untranslated(document, ["Comité de Defensa"])
    assert len(problems) == 2, problems
    assert "Apply now" in problems[0] and "Send" in problems[1]


def test_every_page_is_in_the_pseudo_language(db, world, clients):
    problems, seen = [], 0
    allowed = pseudo_locale.locale_words(pseudo_locale.CODE)
    requests = list(page_requests(world))
    for page in Page.objects.live().filter(locale__language_code="en").specific():
        url = page.get_url()
        if url and url.startswith("/en/"):
            requests.append((f"page {type(page).__name__}", pseudo_url(url), "anonymous"))
    for route, url, role in requests:
        cache.clear()
        response, body = get(clients[role], url)
        if not readable(response):
            continue
        seen += 1
        found = pseudo_locale.untranslated(body.decode(), world["user_content"], allowed, url)
        if found:
            problems.append(f"{url} ({route}, as {role}):\n    " + "\n    ".join(found[:12]))
    assert seen > 150, f"only {seen} pages were read"
    assert not problems, f"{len(problems)} pages show untranslated text:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Emails: every template under templates/emails/ and templates/account/email/, rendered in the
# pseudo-language with the context a real flow gave it (the URL matrix's world sends most of
# them), or, for those no flow of the world sends, with a context naming every variable they use.

EMAIL_DIRS = ("emails", "account/email")


def email_templates() -> list[str]:
    from django.conf import settings as django_settings

    root = django_settings.BASE_DIR / "templates"
    return sorted(
        str(path.relative_to(root))
        for directory in EMAIL_DIRS
        for path in (root / directory).glob("*")
        if path.suffix in (".txt", ".html") and not path.stem.startswith("base_")
    )


class _Anything(int):
    """Whatever a template asks of a variable: any attribute, any key, true in ``{% if %}``,
    printed as "1" (a number, so links resolve and no word is added)."""

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        return self

    def __getitem__(self, item):
        return self

    def __str__(self):
        return "1"

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return True


class _AnythingContext(Context):
    """A context in which every variable exists (``_Anything``): every branch of a template is
    rendered, so every sentence it can show is read."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            return _Anything(1)


def render_every_branch(name: str) -> str:
    """``name`` rendered with every variable present; a filter or tag that cannot work on a
    stand-in (a date filter on it) prints "1" instead of failing."""
    from unittest import mock

    from django.template.base import FilterExpression

    real = FilterExpression.resolve

    def forgiving(self, context, ignore_failures=False):
        try:
            return real(self, context, ignore_failures)
        except Exception:
            return "1"

    context = _AnythingContext({"site_name": "1"}, autoescape=name.endswith(".html"))
    with mock.patch.object(FilterExpression, "resolve", forgiving):
        return get_template(name).template.render(context)


def test_every_email_is_in_the_pseudo_language(db, world):
    from django.template.loader import render_to_string

    calls, content = world["emails"], world["user_content"] + ["1"]
    allowed = pseudo_locale.locale_words(pseudo_locale.CODE)
    seen = {name for name, _context in calls}
    renderings = list(calls) + [(name, None) for name in email_templates()]
    problems = []
    for name, context in renderings:
        with translation.override(pseudo_locale.CODE):
            text = render_to_string(name, context) if context is not None else render_every_branch(name)
        document = text if name.endswith(".html") else "<pre-text>" + text
        found = pseudo_locale.untranslated(document.replace("<pre-text>", ""), content, allowed)
        if found:
            problems.append(f"{name}:\n    " + "\n    ".join(found[:12]))
    assert {"emails/application_submitted.html", "emails/award_offered.txt"} <= seen, sorted(seen)
    assert len(email_templates()) > 100
    assert not problems, f"{len(problems)} email templates show untranslated text:\n" + "\n".join(problems)


def test_the_bond_check_reminder_is_in_the_pseudo_language(db, world):
    """No flow of the world posts a bond, so one is posted long ago here and the reminder sent to
    the world's finance officer (whose language is the pseudo-language), with its real context."""
    import datetime
    from unittest import mock

    from django.template import loader
    from django.test import TestCase
    from djmoney.money import Money

    from grants.models import BondUrgency, Obligor, ProgramType
    from grants.services import bonds, ledger, notifications
    from tests.factories import FundFactory

    users, organization = world["users"], world["org1"]
    finance = users["finance_A"]
    foundation = finance.staff_memberships.first().foundation
    fund = FundFactory(
        foundation=foundation, name="Fondo Luz", currency="USD", program_type=ProgramType.BOND_FUND
    )
    ledger.record_income(fund=fund, amount=Money(9000, "USD"), source="check", received_on=datetime.date(2025, 1, 2),
                         reference="CHK-1", by=finance)  # fmt: skip
    if not bonds.is_partner(organization, foundation):
        bonds.add_partner(foundation=foundation, organization=organization, by=users["officer_A"])
    bond = bonds.request_bond(partner=organization, fund=fund, by=users["applicant"], label="Familia R",
                              facility="Adelanto", urgency=BondUrgency.TODAY, amount=Money(1500, "USD"),
                              obligor=Obligor.FOUNDATION)  # fmt: skip
    bonds.approve(bond, by=users["officer_A"])
    bonds.post_bond(bond, by=finance, method="wire", posted_on=datetime.date(2025, 1, 10), reference="R-1")
    calls, real = [], loader.render_to_string

    def record(template_name, context=None, *args, **kwargs):
        calls.append((template_name, dict(context or {})))
        return real(template_name, context, *args, **kwargs)

    with (
        mock.patch.object(notifications, "render_to_string", record),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        assert bonds.send_check_reminders() == 1
    rendered = {name for name, _context in calls}
    assert {"emails/bond_check_reminder.txt", "emails/bond_check_reminder_subject.txt"} <= rendered, rendered
    content = world["user_content"] + ["1", "Fondo Luz", "B-"]
    allowed = pseudo_locale.locale_words(pseudo_locale.CODE)
    problems = []
    for name, context in calls:
        with translation.override(pseudo_locale.CODE):
            text = loader.render_to_string(name, context)
        found = pseudo_locale.untranslated(text, content, allowed)
        if found:
            problems.append(f"{name}: {found[:12]}")
    assert not problems, problems
