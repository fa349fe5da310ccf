"""Shared tools of the fuzz tests: hypothesis settings, hostile strings, and the "no partial
writes" checks (no INSERT/UPDATE/DELETE on a refused request; row counts unchanged)."""

import re
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.grants.money_fixtures import world  # noqa: F401 - fixture


def fuzz_settings(max_examples: int):
    """Hypothesis settings for a test that drives the database through the test client."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# Strings people (or attackers) actually send: separators, signs, exponents, formulas, NUL.
NASTY = [
    "",
    " ",
    "0",
    "-0",
    "−5",
    "-5",
    "+5",
    "1,000.50",
    "1.000,50",
    "1 000,50",
    "1\u00a0000,50",
    "50,25",
    "1e309",
    "1E+99",
    "1e-999",
    "NaN",
    "sNaN",
    "-Infinity",
    "Infinity",
    "inf",
    "9" * 40,
    "9" * 5000,
    "0." + "0" * 300 + "1",
    "１２３",
    "٣٠",
    "$50",
    "€ 50",
    "=1+1",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "-2+3",
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%s%n",
    "{0}",
    "\u202eevil",
    "😀" * 10,
    "\r\n",
]

nasty = st.sampled_from(NASTY)
any_text = st.one_of(nasty, st.text(max_size=60), st.text(max_size=3000).map(lambda s: s * 2))
number_like = st.one_of(
    nasty,
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(repr),
    st.from_regex(r"\A[-+]?[0-9]{0,7}([.,][0-9]{0,4})?([.,][0-9]{0,3})?\Z"),
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached pages never carry over from one test (or example) to the next."""
    cache.clear()
    yield
    cache.clear()


# Tables a refused request may still write: the session (login state, messages), caches, and
# Wagtail site settings (their row is created with defaults the first time a page reads them).
HOUSEKEEPING_TABLES = {"django_session", "django_cache", "fundportal_cache", "cms_brandingsettings"}
WRITE_SQL = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+["`]?(\w+)', re.IGNORECASE)


def written_tables(queries) -> list[str]:
    tables = []
    for query in queries:
        match = WRITE_SQL.match(query["sql"])
        if match and match.group(1) not in HOUSEKEEPING_TABLES:
            tables.append(match.group(1))
    return tables


def row_counts() -> dict[str, int]:
    """Rows of every model of the portal (grants, users' email addresses, Wagtail pages)."""
    models = list(apps.get_app_config("grants").get_models())
    models += [apps.get_model("account", "EmailAddress"), apps.get_model("wagtailcore", "Page")]
    return {model._meta.label: model._default_manager.count() for model in models}


@contextmanager
def assert_no_writes(*, count_rows: bool = False):
    """Fail when the block writes any row (other than session and cache housekeeping): no
    INSERT, UPDATE or DELETE reaches the database; with ``count_rows`` every table's row count
    is compared too (slower: one query per model)."""
    before = row_counts() if count_rows else None
    with CaptureQueriesContext(connection) as captured:
        yield captured
    tables = written_tables(captured.captured_queries)
    assert not tables, f"a refused request wrote to {sorted(set(tables))}"
    if count_rows:
        assert row_counts() == before
