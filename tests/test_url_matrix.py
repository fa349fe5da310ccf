"""Authorization matrix: every URL pattern of the portal × every role gets the answer the table
in tests/url_matrix/table.py says, and a refused request changes nothing.

One test per URL pattern (the patterns are read from Django's resolver, so a new URL without a
row fails here), asking as each of twelve people: anonymous, an applicant of another
organization, the rightful applicant, a reviewer not assigned and the assigned one, and the
program officer, finance officer, auditor and admin of the rightful foundation A, and the
officer, finance officer and auditor of another foundation B. The world (tests/url_matrix/
world.py) is built once for the module; every request runs in a savepoint rolled back after it.
"""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

from tests import pages
from tests.url_matrix import matrix
from tests.url_matrix.probe import ADMIN_LOGIN, PUBLIC_LOGIN, all_patterns, ask, signed_in_clients
from tests.url_matrix.table import DENIED, LOGIN, NOT_ALLOWED, NOT_FOUND, ROLES, ROWS, WAGTAIL_RULES
from tests.url_matrix.world import build_world

REFUSED = {LOGIN, DENIED, NOT_FOUND, NOT_ALLOWED}
# Staff sign in on the public sign-in page too (Wagtail's admin login sends them there).
SIGN_IN_PAGES = (ADMIN_LOGIN, PUBLIC_LOGIN)
PATTERNS = all_patterns()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), translation.override("en"), transaction.atomic():
        built = build_world(pages.build_site())
        yield built
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    """One client per role, signed in once for the module as ``client.force_login`` does in this
    suite (tests/conftest.py): staff sessions hold the second factor. Requests never change a
    session for good (tests/url_matrix/probe.py rolls each one back and restores the cookies)."""
    with django_db_blocker.unblock():
        return signed_in_clients(world)


def secrets(world) -> list[str]:
    """Text that only the rightful people may read: refused answers never contain it."""
    return [
        world["application"].reference,
        world["award"].reference,
        world["donor"].email,
        world["donor"].name,
        world["volunteer"].pseudonym,
        world["b"]["fund"].name,
        world["bond"].label,
        world["bond_posted"].reference,
    ]


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.route for p in PATTERNS])
def test_every_role_gets_what_the_matrix_says(db, world, clients, pattern):
    entry = matrix.entry_for(pattern.route)
    assert entry is not None, f"{pattern.route} ({pattern.name or 'unnamed'}, {pattern.module}) has no row"
    hidden = secrets(world)
    problems = []
    for request in matrix.requests_for(entry, pattern.route, world):
        got = {}
        for role in ROLES:
            if request.fresh_cache:
                cache.clear()
            answer = ask(clients[role], request.method, request.url, request.data)
            got[role] = answer.outcome
            if answer.outcome == LOGIN and not answer.location.startswith(SIGN_IN_PAGES):
                problems.append(f"{request.method} as {role}: sent to {answer.location}, not a sign-in page")
            if answer.outcome == LOGIN and answer.body.strip():
                problems.append(f"{request.method} as {role}: the redirect to sign in has a body")
            if answer.outcome in REFUSED or request.expected[role] in REFUSED:
                if answer.writes:
                    problems.append(f"{request.method} as {role} was refused but wrote: {answer.writes}")
                if leaked := [text for text in hidden if text in answer.body.decode(errors="replace")]:
                    problems.append(f"{request.method} as {role} was refused but shows {leaked}")
        wrong = {
            role: (got[role], request.expected[role]) for role in ROLES if got[role] != request.expected[role]
        }
        if wrong:
            problems.append(
                f"{request.method} {request.url}: role → (got, expected) {wrong}\n"
                f"    got: {'  '.join(got[role] for role in ROLES)}"
            )
    assert not problems, f"{pattern.route}:\n" + "\n".join(problems)


def test_every_pattern_has_exactly_one_entry_and_every_entry_a_pattern():
    routes = [p.route for p in PATTERNS]
    missing = [route for route in routes if matrix.entry_for(route) is None]
    assert not missing, (
        "URL patterns missing from the matrix (add a row to tests/url_matrix/table.py):\n"
        + "\n".join(missing)
    )
    assert not matrix.ambiguous(routes), (
        f"patterns named by more than one row or rule: {matrix.ambiguous(routes)}"
    )
    stale_rows = [row.route for row in ROWS if row.route not in routes and not row.optional]
    assert not stale_rows, f"rows for patterns that no longer exist: {stale_rows}"
    stale_rules = [
        rule.name for rule in WAGTAIL_RULES if not any(matrix.rule_matches(rule, r) for r in routes)
    ]
    assert not stale_rules, f"Wagtail rules matching no pattern: {stale_rules}"
    stale_named = [r for rule in WAGTAIL_RULES for r in rule.routes if r not in routes]
    assert not stale_named, f"Wagtail rules name patterns that no longer exist: {stale_named}"


def test_the_walk_sees_the_whole_portal():
    """The completeness check is only as good as the walk: it finds Wagtail's admin, the
    project's admin viewsets, the public site under the language prefix and the webhooks."""
    routes = {p.route for p in PATTERNS}
    for expected in ("admin/users/", "admin/applications/inspect/<int:pk>/", "<lang>/applications/<int:pk>/",
                     "stripe/webhooks/<slug:foundation>/", "<lang>/accounts/login/"):  # fmt: skip
        assert expected in routes
    assert len(PATTERNS) > 300


def test_the_probe_sees_writes_and_rolls_them_back(db, world, clients):
    """Control for the write check: an officer's POST that deletes a decision message is seen as
    a write, and the message is still there afterwards."""
    message = world["message"]
    answer = ask(clients["officer_A"], "POST", f"/admin/decision-messages/delete/{message.pk}/", {})
    assert any("grants_decisionmessage" in sql for sql in answer.writes)
    assert type(message).objects.filter(pk=message.pk).exists()
