import pytest
from django.db import connection
from django.utils import translation

from tests import factories, pages


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():
    """Each test starts in English: a request through LocaleMiddleware leaves its language active
    in the thread, which would otherwise leak into the next test on the same worker."""
    with translation.override("en"):
        yield


@pytest.fixture
def site(db):
    return pages.build_site()


@pytest.fixture
def foundation(db):
    return factories.FoundationFactory()


@pytest.fixture
def other_foundation(db):
    return factories.FoundationFactory(name="Another Foundation")


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests (real row locks, triggers) when the suite runs on SQLite."""
    skip = pytest.mark.skip(reason="needs PostgreSQL; CI runs the suite with DATABASE_URL=postgres://…")
    if connection.vendor != "postgresql":
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
