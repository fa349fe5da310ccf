"""Fixtures shared by the grants tests."""

from tests.grants.money_fixtures import world  # noqa: F401 - fixture
