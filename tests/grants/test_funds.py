"""Funding call status follows the clock in the call's own time zone; bad figures are refused."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from djmoney.money import Money

from grants.models import CallStatus, FundingCall
from tests.factories import FundFactory, FundingCallFactory

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def call(db):
    # Opens 1 March 09:00 and closes 31 March 17:00, New York time.
    return FundingCallFactory(
        time_zone="America/New_York",
        opens_at=datetime.datetime(2026, 3, 1, 9, 0, tzinfo=NEW_YORK),
        closes_at=datetime.datetime(2026, 3, 31, 17, 0, tzinfo=NEW_YORK),
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime.datetime(2026, 3, 1, 8, 59, 59, tzinfo=NEW_YORK), CallStatus.UPCOMING),
        (datetime.datetime(2026, 3, 1, 9, 0, 0, tzinfo=NEW_YORK), CallStatus.OPEN),
        (datetime.datetime(2026, 3, 24, 16, 59, 59, tzinfo=NEW_YORK), CallStatus.OPEN),
        (datetime.datetime(2026, 3, 24, 17, 0, 0, tzinfo=NEW_YORK), CallStatus.CLOSING_SOON),
        (datetime.datetime(2026, 3, 31, 16, 59, 59, tzinfo=NEW_YORK), CallStatus.CLOSING_SOON),
        (datetime.datetime(2026, 3, 31, 17, 0, 0, tzinfo=NEW_YORK), CallStatus.CLOSED),
        # 21:00 UTC is 17:00 in New York (EDT, UTC-4, after the 8 March change): closed.
        (datetime.datetime(2026, 3, 31, 21, 0, 0, tzinfo=datetime.UTC), CallStatus.CLOSED),
        (datetime.datetime(2026, 3, 31, 20, 59, 0, tzinfo=datetime.UTC), CallStatus.CLOSING_SOON),
    ],
)
def test_status_follows_the_clock(call, moment, expected):
    with time_machine.travel(moment, tick=False):
        assert call.status == expected
        assert FundingCall.objects.with_status(expected, moment).filter(pk=call.pk).exists()


def test_querysets_agree_with_status_at_every_boundary(call):
    for moment in (call.opens_at - datetime.timedelta(seconds=1), call.opens_at, call.closes_at):
        open_now = FundingCall.objects.open_at(moment).filter(pk=call.pk).exists()
        assert open_now == call.is_open(moment)


def test_dates_are_shown_in_the_calls_time_zone(call):
    assert call.closes_at_local.hour == 17
    assert call.closes_at_local.tzinfo.key == "America/New_York"


def test_call_must_close_after_it_opens(db):
    fund = FundFactory()
    call = FundingCall(
        fund=fund,
        title="Backwards",
        opens_at=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC),
        closes_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC),
        min_amount=Money(1, "USD"),
        max_amount=Money(2, "USD"),
    )
    with pytest.raises(ValidationError) as excinfo:
        call.full_clean()
    assert "closes_at" in excinfo.value.message_dict
    with pytest.raises(IntegrityError):
        call.save()


def test_amounts_must_be_in_the_funds_currency_and_ordered(db):
    fund = FundFactory(currency="USD")
    call = FundingCallFactory.build(fund=fund, min_amount=Money(10, "EUR"), max_amount=Money(5, "USD"))
    with pytest.raises(ValidationError) as excinfo:
        call.full_clean()
    assert "min_amount" in excinfo.value.message_dict
    call.min_amount = Money(10, "USD")
    with pytest.raises(ValidationError) as excinfo:
        call.full_clean()
    assert "max_amount" in excinfo.value.message_dict


def test_fund_goal_must_be_in_fund_currency(db):
    fund = FundFactory.build(currency="USD", fundraising_goal=Money(100, "MXN"))
    fund.foundation.save()
    fund.foundation_id = fund.foundation.pk
    with pytest.raises(ValidationError) as excinfo:
        fund.full_clean()
    assert "fundraising_goal" in excinfo.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("donation_minimum", {"donation_minimum": 0}),
        ("donation_maximum", {"donation_minimum": 50, "donation_maximum": 10}),
        ("donation_presets", {"donation_presets": "25, fifty, 100"}),
    ],
)
def test_giving_settings_are_checked(field, values):
    from django.core.exceptions import ValidationError

    from tests.factories import FundFactory

    fund = FundFactory.build(foundation=FundFactory().foundation, **values)
    with pytest.raises(ValidationError) as error:
        fund.clean()
    assert field in error.value.message_dict
