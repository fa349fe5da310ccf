"""Payment schedules: whatever the amount, currency and count, the payments sum to the award."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from grants.money import currency_exponent
from grants.services.schedules import (
    ScheduleError,
    ScheduleKind,
    add_months,
    build_schedule,
    split_evenly,
    validate_schedule,
)

D = datetime.date


@given(
    minor_units=st.integers(min_value=1, max_value=10**12),
    count=st.integers(min_value=1, max_value=60),
    currency=st.sampled_from(["USD", "MXN", "EUR", "JPY", "KRW", "CLP"]),
    kind=st.sampled_from([ScheduleKind.MONTHLY, ScheduleKind.QUARTERLY]),
    first_due=st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31)),
)
def test_payments_always_sum_to_the_award(minor_units, count, currency, kind, first_due):
    total = Money(Decimal(minor_units).scaleb(-currency_exponent(currency)), currency)
    if minor_units < count:
        with pytest.raises(ScheduleError):
            build_schedule(kind, total, count=count, first_due=first_due)
        return
    schedule = build_schedule(kind, total, count=count, first_due=first_due)
    assert len(schedule) == count
    assert sum((amount for _due, amount in schedule), Money(0, currency)) == total
    amounts = [amount.amount for _due, amount in schedule]
    assert all(a > 0 and a == a.quantize(Decimal(1).scaleb(-currency_exponent(currency))) for a in amounts)
    assert len(set(amounts[:-1])) <= 1, "equal payments"
    assert amounts[-1] >= amounts[0], "the remainder goes on the last"
    dates = [due for due, _amount in schedule]
    assert dates == sorted(dates) and dates[0] == first_due
    assert validate_schedule(schedule, total) == schedule


def test_yen_are_never_split_into_fractions():
    schedule = split_evenly(Money(1000, "JPY"), 3, D(2026, 1, 31), 1)
    assert [str(amount.amount) for _due, amount in schedule] == ["333", "333", "334"]
    assert [due for due, _amount in schedule] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)]


def test_quarterly_dates_and_month_ends():
    assert add_months(D(2024, 11, 30), 3) == D(2025, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2026, 12, 15), 1) == D(2027, 1, 15)
    one = build_schedule(ScheduleKind.ONE, Money("1234.56", "USD"), count=5, first_due=D(2026, 3, 1))
    assert one == [(D(2026, 3, 1), Money("1234.56", "USD"))]


@pytest.mark.parametrize(
    "schedule",
    [
        [],
        [(D(2026, 1, 1), Money("100.00", "USD"))],
        [(D(2026, 1, 1), Money("1000.005", "USD"))],
        [(D(2026, 1, 1), Money("1000", "MXN"))],
        [(None, Money("1000", "USD"))],
        [(D(2026, 1, 1), Money("1100", "USD")), (D(2026, 2, 1), Money("-100", "USD"))],
    ],
)
def test_hand_made_schedules_that_do_not_fit_are_refused(schedule):
    with pytest.raises(ScheduleError) as error:
        validate_schedule(schedule, Money("1000", "USD"))
    assert error.value.message


def test_too_many_payments_are_refused():
    with pytest.raises(ScheduleError):
        split_evenly(Money(1000, "USD"), 61, D(2026, 1, 1), 1)
    with pytest.raises(ScheduleError):
        split_evenly(Money(1000, "USD"), 0, D(2026, 1, 1), 1)
