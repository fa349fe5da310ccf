import pytest
from django.core.cache import cache
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.test import Client, override_settings
from django.utils import translation

from tests import factories, pages
from tests.security_helpers import force_login_without_second_factor, record_second_factor


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_journal_truncate_guard():
    """Transactional tests empty the database with TRUNCATE, which the journal refuses on
    PostgreSQL (migration 0020). The test run's superuser flushes in replica mode, where user
    triggers do not fire; the application's own role could not do this."""
    original = PostgresOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostgresOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():
    """Each test starts in English: a request through LocaleMiddleware leaves its language active
    in the thread, which would otherwise leak into the next test on the same worker."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _force_login_means_fully_signed_in(monkeypatch):
    """``client.force_login(user)`` signs in as after a real sign-in with the authenticator code,
    so staff reach the admin (grants.middleware). Tests of the missing second factor use
    ``tests.security_helpers.force_login_without_second_factor``."""

    def force_login(self, user, backend=None):
        force_login_without_second_factor(self, user, backend)
        record_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _email_through_the_outbox():
    """Django's test setup swaps ``EMAIL_BACKEND`` for its in-memory one; put the portal's outbox
    back in front of it, so every test's email takes the production path (a row, a task,
    delivery) and still lands in ``mail.outbox``."""
    with override_settings(
        EMAIL_BACKEND="grants.mail.OutboxBackend",
        EMAIL_DELIVERY_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ):
        yield


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Rate limits (allauth counts attempts in the cache) start from zero in every test, as all
    test requests come from the same address."""
    cache.clear()
    yield
    cache.clear()


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
