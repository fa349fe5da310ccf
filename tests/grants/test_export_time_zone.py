"""Exports read in the foundation's own time zone, to the minute, and say which zone that is.

A gift recorded at 04:30 UTC on Dec 6 happened on the evening of Dec 5 in Los Angeles: the
foundation's auditor finds it on Dec 5 at 20:30, not on Dec 6, and never with microseconds."""

import csv
import datetime
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError

from grants.models import ActivityEntry, ExportStatus
from tests.factories import FoundationFactory
from tests.grants.test_exports import ask, csv_files, workbook

pytestmark = pytest.mark.django_db
D = datetime.date
GIFT_AT = datetime.datetime(2026, 12, 6, 4, 30, 15, 123456, tzinfo=datetime.UTC)


@pytest.fixture
def gift_logged(world, settings):
    settings.TIME_ZONE = "UTC"  # the portal's zone differs: the foundation's must win
    with time_machine.travel(GIFT_AT, tick=False):
        ActivityEntry.objects.create(
            foundation=world["foundation"], subject_type="donation", subject_id=1, action="received",
            note="gift of Dec 5",
        )  # fmt: skip
    return world


def activity_rows(job) -> list[list[str]]:
    [name] = [name for name in csv_files(job) if "Activity" in name]
    return list(csv.reader(io.StringIO(csv_files(job)[name].decode("utf-8-sig"))))


def set_zone(world, zone):
    foundation = world["foundation"]
    foundation.time_zone = zone
    foundation.save(update_fields=["time_zone"])


def test_csv_gives_the_foundations_local_time_to_the_minute_and_names_the_zone(gift_logged):
    set_zone(gift_logged, "America/Los_Angeles")
    job = ask(gift_logged, date_from=D(2026, 12, 5), date_to=D(2026, 12, 5), format="csv")
    assert job.status == ExportStatus.READY
    header, *rows = activity_rows(job)
    assert header[0] == "When (America/Los_Angeles)"
    [row] = [row for row in rows if row[-1] == "gift of Dec 5"]
    assert row[0] == "2026-12-05 20:30"


def test_the_days_of_the_range_are_the_foundations_days(gift_logged):
    set_zone(gift_logged, "Europe/Madrid")
    dec_5 = ask(gift_logged, date_from=D(2026, 12, 5), date_to=D(2026, 12, 5), format="csv")
    assert not [row for row in activity_rows(dec_5) if row[-1] == "gift of Dec 5"]
    dec_6 = ask(gift_logged, date_from=D(2026, 12, 6), date_to=D(2026, 12, 6), format="csv")
    header, *rows = activity_rows(dec_6)
    assert header[0] == "When (Europe/Madrid)"
    assert [row[0] for row in rows if row[-1] == "gift of Dec 5"] == ["2026-12-06 05:30"]


def test_the_workbook_holds_the_local_time_as_a_real_date_and_time(gift_logged):
    set_zone(gift_logged, "America/Los_Angeles")
    job = ask(gift_logged, date_from=D(2026, 12, 5), date_to=D(2026, 12, 5))
    sheet = workbook(job)["Activity"]
    assert sheet["A1"].value == "When (America/Los_Angeles)"
    [when] = [row[0].value for row in sheet.iter_rows(min_row=2) if row[-1].value == "gift of Dec 5"]
    assert when == datetime.datetime(2026, 12, 5, 20, 30)
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm"


def test_a_new_foundation_works_in_the_portals_zone_and_an_unknown_zone_is_refused(settings):
    settings.TIME_ZONE = "America/Chicago"
    foundation = FoundationFactory()
    assert foundation.time_zone == "America/Chicago"
    foundation.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as refused:
        foundation.full_clean()
    assert "time_zone" in refused.value.message_dict
