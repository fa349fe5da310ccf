import pytest
from django.db import connection

from tests import factories, pages


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
