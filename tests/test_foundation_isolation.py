"""Foundation isolation: nothing of foundation A reaches any of foundation B's staff, through any
URL of the portal, and nothing B's staff send changes anything; A's own staff still get their
work done with the very same requests.

The requests are generated from Django's URL resolver (``all_patterns``), so a new URL is covered
the day it is added, without a row anywhere: each pattern is filled with A's objects the way the
URL matrix fills it (tests/url_matrix/matrix.py: the pattern's row or rule, else ``ARGS``/``PK``).
The world (tests/isolation/world.py) is the URL matrix's, with a canary (``CANARY-A-...``) in
every text of A: fund, call, section/fund/call/standard pages in English and Spanish, a draft
page and a draft revision, applicant organizations, the names and addresses of A's staff and
applicants, application and award references, donors, a volunteer, an image and a document
uploaded by A's officer in A's collection, a decision message and an audit export (searched
inside the spreadsheet).

For every pattern, as each of B's five roles (admin, program officer, reviewer, finance officer,
auditor):

- GET the URL; admin listings, searches, choosers and reports a second time with ``?q=CANARY``
  (``?search=`` for the admin API) so that a search that reaches A's rows shows them; the
  choosers' "chosen" endpoints with ``?id=`` A's object;
- POST to it (empty, or the matrix's body);
- no response contains a canary, and no request wrote anything (the probe's ``writes``; each
  request is rolled back anyway).

The public-content rule: the public site (every URL not under ``/admin/``) shows everyone the
titles of A's *live* pages, its fund's name and its call's title: that is what publishing is
for, so those canaries (``world["public_canaries"]``) are allowed there and only there. Nothing
else of A is public: a draft page, a page's newer unpublished revision, people, organizations,
references, donors, images, documents, messages and exports must not appear on the public site
either. In Wagtail's admin no canary of A is allowed at all, published or not: B's staff have
no business with A's pages there (the explorer, search, choosers and reports included).
Links whose path is a secret handed to one person (a donor's signed link, a Stripe Checkout
session, an onboarding account: ``bearer_link``) are that person's by design and are not
checked for canaries. Writes that change nothing of A are not counted: the probe's harmless
ones, a thumbnail made for a request, the asker's own preview state and email address, and B's
admin recording a dry run of B's own retention rule (``HARMLESS``, ``own_write``).

Sanity twin: the same GETs by A's person of the same role get what the URL matrix says for
that column (tests/url_matrix/table.py), key pages show A's canaries to A's staff (so missing
canaries would be noticed), and real form POSTs that B's staff are refused (page add, edit,
publish, unpublish, move, copy, delete; image, document, collection, message, fund edits; an
application comment; releasing a payment) do write when A's staff send them.
"""

import re
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import translation

from cms.models import FundPage, StandardPage
from tests import pages
from tests.isolation.forms import form_fields, stream_fields_emptied
from tests.isolation.world import A_COLUMN, ROLE_OF, SEARCH, build_canary_world, canaries_in
from tests.security_helpers import force_login_without_second_factor, record_second_factor
from tests.url_matrix import matrix
from tests.url_matrix.probe import all_patterns, ask, route_args
from tests.url_matrix.table import DENIED, LOGIN, NOT_ALLOWED, NOT_FOUND, OK

# Beyond the probe's harmless writes: a thumbnail made for a request (Wagtail's rendition cache),
# the asker's own preview form state, and allauth recording the asker's own email address.
HARMLESS = re.compile(
    r'^(INSERT INTO|UPDATE|DELETE FROM) "?(wagtailimages_rendition|wagtailadmin_formstate|account_emailaddress)"?',
    re.IGNORECASE,
)
TABLE = re.compile(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', re.IGNORECASE)
PATTERNS = all_patterns()
REFUSED = {LOGIN, DENIED, NOT_FOUND, NOT_ALLOWED}
ROLES = list(ROLE_OF)  # admin, officer, reviewer, finance, auditor
CHOSEN = {  # the choosers' "chosen" endpoints, asked about A's object
    "admin/choose-page/chosen-multiple/": "fund_page",
    "admin/images/chooser/chosen-multiple/": "image",
    "admin/documents/chooser/chosen-multiple/": "document",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), translation.override("en"), transaction.atomic():
        built = build_canary_world(pages.build_site())
        yield built
        transaction.set_rollback(True)
    cache.clear()


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    force_login_without_second_factor(client, user)
    record_second_factor(client, user)
    return client


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    """B's and A's staff by role, and a platform administrator (who only reads forms)."""
    with django_db_blocker.unblock():
        return {
            "B": {role: _signed_in(world["b_staff"][role]) for role in ROLES},
            "A": {role: _signed_in(world["users"][A_COLUMN[role]]) for role in ROLES},
            "platform": _signed_in(world["platform_admin"]),
        }


def is_public(url: str) -> bool:
    return not url.startswith("/admin/")


def leaks(world, url: str, body: bytes) -> list[str]:
    found = canaries_in(body)
    if is_public(url):
        found -= world["public_canaries"]
    return sorted(found)


def bearer_link(url: str, world) -> bool:
    """Links whose path is a secret handed to one person (a donor's signed link to manage their
    gifts, a Stripe Checkout session, a Stripe onboarding account): whoever holds the link is that
    person by design (tests/url_matrix/table.py: EVERYONE), so what it shows is no leak between
    foundations. Writes through them are still checked."""
    secrets = (
        world["manage_token"],
        world["pending_donation"].checkout_session_id,
        world["payee"].stripe_account_id,
    )
    return any(secret and secret in url for secret in secrets)


def own_write(url: str, sql: str) -> bool:
    """Writes that are B's own business, not A's: a foundation admin previewing their own
    foundation's retention rule records the dry run (grants.admin.privacy.PreviewView)."""
    return url == "/admin/privacy/preview/" and "grants_retentionrun" in sql


def written(writes: list[str]) -> str:
    """The tables a request wrote to, in order: enough to say what happened."""
    found = [(sql.split()[0], TABLE.search(sql)) for sql in writes]
    return ", ".join(dict.fromkeys(f"{verb} {name.group(1)}" for verb, name in found if name))


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def searches(route: str) -> bool:
    """Admin listings, searches, choosers and reports: asked again with a search for A."""
    return route.startswith("admin/") and (
        not route_args(route) or any(word in route for word in ("search", "choose", "results", "usage"))
    )


@dataclass
class Asked:
    """What to ask about one pattern: its URL filled with A's objects, the same URL searching for
    A (asked only when the plain URL answers 200: a refused view refuses its search too), more
    URLs asked anyway, the POST bodies, and the URL matrix's requests (for A's twin)."""

    url: str
    search: str | None
    more: list[str]
    bodies: list[dict]
    requests: list[matrix.Request]


def asked_for(pattern, world) -> Asked:
    entry = matrix.entry_for(pattern.route)
    if entry is None:  # a pattern nobody wrote a row for yet: still asked, with A's objects
        return Asked(matrix.build_url(pattern.route, {}, world), None, [], [{}], [])
    requests = matrix.requests_for(entry, pattern.route, world)
    url = requests[0].url
    search = None
    if searches(pattern.route):
        search = with_query(url, f"search={SEARCH}" if "/api/" in url else f"q={SEARCH}")
    more = []
    if pattern.route in CHOSEN:
        more.append(with_query(url, f"id={world[CHOSEN[pattern.route]].pk}"))
    if pattern.route == "<lang>/^((?:[\\w\\-]+/)*)$":  # Wagtail's public pages: A's, and A's draft's path
        more += [page.url for page in world["public_pages"]] + [world["draft_path"]]
    bodies = [request.data for request in requests if request.method == "POST"] or [entry.data or {}]
    return Asked(url, search, more, bodies, requests)


def _id(pattern) -> str:
    return pattern.route


def problems_of(world, role: str, method: str, url: str, answer) -> list[str]:
    said = f"{role}: {method} {url} ({answer.outcome})"
    problems = []
    if (leaked := leaks(world, url, answer.body)) and not bearer_link(url, world):
        problems.append(f"{said} shows {', '.join(leaked)}")
    if writes := [sql for sql in answer.writes if not HARMLESS.match(sql) and not own_write(url, sql)]:
        problems.append(f"{said} wrote {written(writes)}")
    return problems


@pytest.mark.parametrize("pattern", PATTERNS, ids=_id)
def test_b_staff_read_nothing_of_a_and_write_nothing(db, world, clients, pattern):
    asked = asked_for(pattern, world)
    problems = []
    for role in ROLES:
        client = clients["B"][role]
        answer = ask(client, "GET", asked.url)
        problems += problems_of(world, role, "GET", asked.url, answer)
        more = asked.more + ([asked.search] if asked.search and answer.outcome == OK else [])
        for url in more:
            problems += problems_of(world, role, "GET", url, ask(client, "GET", url))
        for body in asked.bodies:
            problems += problems_of(world, role, "POST", asked.url, ask(client, "POST", asked.url, body))
    assert not problems, f"{pattern.route} — B's role: what leaked or was written:\n" + "\n".join(problems)


@pytest.mark.parametrize("pattern", PATTERNS, ids=_id)
def test_a_staff_of_the_same_role_get_what_the_matrix_says(db, world, clients, pattern):
    requests = asked_for(pattern, world).requests
    assert requests or matrix.entry_for(pattern.route) is None
    wrong = {}
    for request in requests:
        if request.method != "GET":
            continue
        for role in ROLES:
            expected = request.expected[A_COLUMN[role]]
            if expected in REFUSED:  # A's person may not see it either: nothing to compare
                continue
            got = ask(clients["A"][role], "GET", request.url).outcome
            if got != expected:
                wrong[role] = (got, expected)
    assert not wrong, f"GET {pattern.route} by A's staff: role → (got, expected) {wrong}"


# --- A's staff see their own canaries (a world without canaries would pass everything above) ---
SEEN = [
    ("officer", "/admin/pages/{fund_page.pk}/edit/", "CANARY-A-PAGE-FUND-EN"),
    ("officer", "/admin/pages/{section.pk}/", "CANARY-A-PAGE-FUND-EN"),
    ("officer", f"/admin/pages/search/?q={SEARCH}", "CANARY-A-PAGE-FUND-EN"),
    ("officer", "/admin/choose-page/{section.pk}/", "CANARY-A-PAGE-FUND-EN"),
    ("officer", f"/admin/images/chooser/?q={SEARCH}", "CANARY-A-IMAGE"),
    ("officer", f"/admin/documents/chooser/?q={SEARCH}", "CANARY-A-DOCUMENT"),
    ("officer", "/admin/applications/inspect/{application.pk}/", "{application.reference}"),
    ("officer", "/admin/decision-messages/edit/{message.pk}/", "CANARY-A-MESSAGE"),
    ("reviewer", "/admin/reviews/{application.pk}/", "{application.reference}"),
    ("finance", "/admin/payments/", "CANARY-A-ORG-APPLICANT"),
    ("auditor", "/admin/exports/{export.pk}/download/", "CANARY-A-DONOR-NAME"),
    ("admin", "/admin/funds/edit/{fund.pk}/", "CANARY-A-FUND-NAME"),
    ("officer", "/admin/", "{application.reference}"),  # the work queues of the admin home
    ("officer", "/admin/awards/inspect/{award.pk}/answer-document/", "CANARY-A-SIGNED-PAPER-BODY"),
    ("officer", "/admin/bonds/", "CANARY-A-BOND-LABEL"),
    ("auditor", "/admin/bonds/{bond_posted.pk}/", "CANARY-A-BOND-POSTED-FACILITY"),
    ("finance", "/admin/bonds/{bond_posted.pk}/", "CANARY-A-BOND-REFERENCE"),
    ("officer", "/admin/bonds/partners/", "CANARY-A-ORG-APPLICANT"),
    ("officer", "/admin/vendors/{vendor_payment.pk}/", "CANARY-A-VENDOR-PURPOSE"),
    ("finance", "/admin/vendors/{vendor_payment.pk}/invoice/", "CANARY-A-INVOICE-BODY"),
    ("finance", "/admin/vendors/list/", "CANARY-A-VENDOR"),
]


@pytest.mark.parametrize(("role", "url", "canary"), SEEN, ids=[f"{role} {url}" for role, url, _ in SEEN])
def test_a_staff_see_their_own_canaries(db, world, clients, role, url, canary):
    url, canary = url.format(**world), canary.format(**world)
    answer = ask(clients["A"][role], "GET", url)
    assert canary in canaries_in(answer.body), (
        f"A's {role}: GET {url} ({answer.outcome}) does not show {canary}"
    )


# --- Real writes: refused to every role of B, done for A's person of the rightful role ---
@dataclass(frozen=True)
class Write:
    name: str
    url: str  # with {world} fields
    data: dict = field(default_factory=dict)  # on top of the form read from ``form`` (or alone)
    form: bool = False  # start from the form the platform administrator gets at ``url``
    model: type | None = None  # a page type: its StreamFields are sent empty
    twin: str | None = None  # A's role whose same POST writes (None: nobody but superusers may)


P = "/admin/pages/"
WRITES = [
    Write("add a page under A's section", P + "add/cms/standardpage/{section.pk}/", form=True, model=StandardPage,
          data={"title": "Added page", "slug": "added-page", "action-publish": "1"}, twin="officer"),
    Write("edit and publish A's fund page", P + "{fund_page.pk}/edit/", form=True, model=FundPage,
          data={"title": "Edited fund page", "action-publish": "1"}, twin="officer"),
    Write("save a draft of A's standard page", P + "{standard_page.pk}/edit/", form=True, model=StandardPage,
          data={"title": "Edited draft"}, twin="admin"),
    Write("unpublish A's standard page", P + "{standard_page.pk}/unpublish/", twin="officer"),
    Write("move A's page within A's section", P + "{standard_page.pk}/move/{sibling_page.pk}/confirm/",
          twin="officer"),
    Write("move A's page into B's section", P + "{standard_page.pk}/move/{b_section.pk}/confirm/"),
    Write("copy A's page within A's section", P + "{standard_page.pk}/copy/", twin="officer",
          data={"new_title": "Copied", "new_slug": "copied", "new_parent_page": "{section.pk}"}),
    Write("copy A's page into B's section", P + "{standard_page.pk}/copy/",
          data={"new_title": "Copied", "new_slug": "copied", "new_parent_page": "{b_section.pk}"}),
    Write("delete A's page", P + "{standard_page.pk}/delete/"),
    Write("restrict who may see A's page", P + "{standard_page.pk}/privacy/", twin="officer",
          data={"restriction_type": "password", "password": "let-me-in-2026"}),
    Write("edit A's image", "/admin/images/{image.pk}/", form=True, data={"title": "Renamed image"}),
    Write("delete A's image", "/admin/images/{image.pk}/delete/"),
    Write("edit A's document", "/admin/documents/edit/{document.pk}/", form=True, data={"title": "Renamed"}),
    Write("delete A's document", "/admin/documents/delete/{document.pk}/"),
    Write("rename A's collection", "/admin/collections/{collection.pk}/", form=True, data={"name": "Renamed"}),
    Write("delete A's collection", "/admin/collections/{collection.pk}/delete/"),
    Write("edit A's decision message", "/admin/decision-messages/edit/{message.pk}/", form=True,
          data={"title": "Edited message"}, twin="officer"),
    Write("delete A's decision message", "/admin/decision-messages/delete/{message.pk}/", twin="officer"),
    Write("edit A's fund", "/admin/funds/edit/{fund.pk}/", form=True, data={"name": "Renamed fund"},
          twin="officer"),
    Write("edit A's call", "/admin/calls/edit/{call.pk}/", form=True, data={"title": "Renamed call"},
          twin="officer"),
    Write("comment on A's application", "/admin/applications/inspect/{application.pk}/do/comment/",
          data={"comment-text": "Looks fine."}, twin="officer"),
    Write("release A's payment", "/admin/payments/release/", twin="finance",
          data={"installment": "{due_installment.pk}", "amount-{due_installment.pk}": "{due_installment.amount.amount}"}),
    Write("approve A's bond request", "/admin/bonds/{bond.pk}/approve/", data={"approve-note": "ok"},
          twin="officer"),
    Write("decline A's bond request", "/admin/bonds/{bond.pk}/decline/", data={"decline-reason": "No money"},
          twin="officer"),
    Write("post A's approved bond", "/admin/bonds/{bond_approved.pk}/post/",
          data={"post-method": "wire", "post-reference": "forged"}, twin="finance"),
    Write("record the breach of A's bond", "/admin/bonds/{bond_posted.pk}/breach/",
          data={"breach-breached_on": "2026-01-02", "breach-reason": "forged"}, twin="finance"),
    Write("set the reference of A's bond", "/admin/bonds/{bond_posted.pk}/reference/",
          data={"reference-reference": "forged"}, twin="finance"),
    Write("remove A's bond partner", "/admin/bonds/partners/{bond_partner.pk}/remove/", twin="officer"),
    Write("make A's organization a bond partner of B", "/admin/bonds/partners/",
          data={"foundation": "{b[foundation].pk}", "organization": "{org1.pk}"}),
    Write("edit the site settings", "/admin/settings/cms/brandingsettings/{site_row.pk}/", form=True,
          data={"site_name": "Renamed portal"}),
]  # fmt: skip


def write_data(write: Write, world, platform) -> dict:
    data = {}
    if write.form:
        answer = ask(platform, "GET", write.url.format(**world))
        assert answer.outcome == "OK", f"the platform administrator cannot open {write.url}: {answer.outcome}"
        data.update(form_fields(answer.body.decode()))
        if write.model is not None:
            data.update(stream_fields_emptied(write.model))
    data.update({key.format(**world): value.format(**world) for key, value in write.data.items()})
    return data


@pytest.mark.parametrize("write", WRITES, ids=[write.name for write in WRITES])
def test_real_writes_are_refused_to_b_and_done_for_a(db, world, clients, write):
    url = write.url.format(**world)
    data = write_data(write, world, clients["platform"])
    problems = []
    for role in ROLES:
        answer = ask(clients["B"][role], "POST", url, data)
        if answer.writes:
            problems.append(f"B's {role}: POST {url} ({answer.outcome}) wrote {written(answer.writes)}")
        if leaked := leaks(world, url, answer.body):
            problems.append(f"B's {role}: POST {url} ({answer.outcome}) shows {', '.join(leaked)}")
    if write.twin is not None:
        answer = ask(clients["A"][write.twin], "POST", url, data)
        if not answer.writes:
            problems.append(
                f"A's {write.twin}: the same POST wrote nothing ({answer.outcome} {answer.location})"
            )
    assert not problems, f"{write.name}:\n" + "\n".join(problems)
