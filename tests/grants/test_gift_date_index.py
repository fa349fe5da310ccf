"""The donations list's sort index: built for the portal's time zone, used by the list, rebuilt
when the time zone changes (PostgreSQL; SQLite sorts in memory and has no such index)."""

import pytest
from django.db import connection

from grants.indexes import GIFT_DATE_INDEX, ensure_gift_date_index, gift_date_index_sql
from grants.models import Role
from grants.permissions import donations_visible_to
from tests import factories
from tests.grants.money_fixtures import staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def index_definition() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [GIFT_DATE_INDEX])
        row = cursor.fetchone()
    return row[0] if row else None


def test_migrate_builds_the_index_for_the_portal_time_zone(settings):
    assert f"'{settings.TIME_ZONE}'" in index_definition()
    assert ensure_gift_date_index(connection) is False, "already right: nothing to do"


def test_another_time_zone_rebuilds_it_and_back(settings):
    assert ensure_gift_date_index(connection, "Europe/Madrid") is True
    assert "'Europe/Madrid'" in index_definition()
    assert ensure_gift_date_index(connection) is True
    assert f"'{settings.TIME_ZONE}'" in index_definition()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "UTC'; DROP TABLE grants_donation; --"])
def test_a_bad_time_zone_name_is_refused(zone):
    with pytest.raises(Exception):  # noqa: B017 - ValueError or ZoneInfoNotFoundError
        gift_date_index_sql(zone)


def test_the_donations_list_reads_its_first_page_from_the_index():
    foundation = factories.FoundationFactory()
    user = staff(foundation, Role.FINANCE_OFFICER)
    queryset = donations_visible_to(user).filter(foundation=foundation).order_by("-gift_date", "-pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show its choice
        sql, params = queryset.values_list("pk", flat=True)[:50].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert GIFT_DATE_INDEX in plan
    assert "Sort" not in plan, plan
