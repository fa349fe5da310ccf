"""Staff screens write a date one way per language: "Dec 5, 2026" in English, "5 dic 2026" in
Spanish, long or short, in the portal's time zone; never "12/05/2026"."""

import datetime
import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.users.models import UserProfile

from grants.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

# 04:30 UTC on Dec 6 is 20:30 on Dec 5 in Los Angeles (the portal's TIME_ZONE in tests).
MOMENT = datetime.datetime(2026, 12, 6, 4, 30, tzinfo=datetime.UTC)
NUMERIC_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


@pytest.mark.parametrize(
    ("language", "date", "moment"),
    [("en", "Dec 5, 2026", "Dec 5, 2026, 8:30 PM"), ("es", "5 dic 2026", "5 dic 2026, 20:30")],
)
def test_long_and_short_formats_are_the_same_in_each_language(language, date, moment, settings):
    template = Template(
        '{{ d|date:"DATE_FORMAT" }}|{{ d|date:"SHORT_DATE_FORMAT" }}|{{ d }}|'
        '{{ m|date:"DATETIME_FORMAT" }}|{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m }}'
    )
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        rendered = template.render(Context({"d": MOMENT.astimezone().date(), "m": MOMENT}))
    assert rendered.split("|") == [date, date, date, moment, moment, moment]


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [
        ("en", "Dec 5, 2026, 8:30 PM", ["Dec. 5", "Dec 6", "5 dic"]),
        ("es", "5 dic 2026, 20:30", ["Dec", "6 dic", "5 de diciembre"]),
    ],
)
def test_a_staff_page_shows_the_date_in_the_readers_language_and_zone(
    world, client, language, shown, not_shown
):
    event = WebhookEvent.objects.create(
        event_id="evt_dated", foundation=world["foundation"], endpoint="platform", type="transfer.created",
        created=0, payload={}, status=WebhookEventStatus.PROCESSED,
    )  # fmt: skip
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=MOMENT)
    finance = world["finance"]
    profile = UserProfile.get_for_user(finance)
    profile.preferred_language = language
    profile.save()
    client.force_login(finance)
    html = client.get(reverse("payments:webhooks")).content.decode()
    assert "evt_dated" in html
    assert shown in html
    for text in not_shown:
        assert text not in html
    assert NUMERIC_DATE.findall(html) == []
