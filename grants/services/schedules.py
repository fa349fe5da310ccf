"""Payment schedules: installments whose amounts always sum to the award.

Helpers build the usual schedules (one payment; equal monthly or quarterly payments with the
remainder on the last); ``validate_schedule`` checks any schedule, including one typed by hand.
"""

import calendar
import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from grants.money import check_money, is_whole_in_minor_units, minor_unit
from grants.services.errors import DomainError

MAX_INSTALLMENTS = 60


class ScheduleError(DomainError):
    """A schedule cannot be built or does not fit the award."""


class ScheduleKind:
    ONE = "one"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    CHOICES = [
        (ONE, gettext_lazy("One payment")),
        (MONTHLY, gettext_lazy("Equal monthly payments")),
        (QUARTERLY, gettext_lazy("Equal quarterly payments")),
    ]
    MONTHS = {ONE: 0, MONTHLY: 1, QUARTERLY: 3}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_evenly(total: Money, count: int, first_due: datetime.date, every_months: int) -> list:
    """``count`` payments of equal amounts (whole minor units), the remainder on the last.

    Returns ``[(due_date, Money), ...]``. Raises ``ScheduleError`` when ``count`` is out of range
    or the total is too small to give every payment at least one minor unit.
    """
    check_money(total)
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise ScheduleError(_("Choose between 1 and %(max)s payments.") % {"max": MAX_INSTALLMENTS})
    currency = str(total.currency)
    unit = minor_unit(currency)
    total_units = int(total.amount / unit)
    if total_units < count:
        raise ScheduleError(_("%(total)s is too small to split into %(count)s payments.") % {
            "total": total, "count": count
        })  # fmt: skip
    base_units = total_units // count
    amounts = [base_units] * (count - 1) + [total_units - base_units * (count - 1)]
    return [
        (add_months(first_due, every_months * index), Money(Decimal(units) * unit, currency))
        for index, units in enumerate(amounts)
    ]


def build_schedule(kind: str, total: Money, *, count: int, first_due: datetime.date) -> list:
    """A schedule of the given kind (``ScheduleKind``)."""
    if kind == ScheduleKind.ONE:
        return split_evenly(total, 1, first_due, 0)
    if kind not in ScheduleKind.MONTHS:
        raise ScheduleError(_("Choose how the award is paid."))
    return split_evenly(total, count, first_due, ScheduleKind.MONTHS[kind])


def validate_schedule(schedule: list, total: Money) -> list:
    """Check a schedule against the award amount; return it sorted by due date.

    Every payment is positive, in the award's currency, whole in minor units, and together they
    sum to ``total`` exactly.
    """
    if not schedule:
        raise ScheduleError(_("Add at least one payment."))
    if len(schedule) > MAX_INSTALLMENTS:
        raise ScheduleError(_("Choose between 1 and %(max)s payments.") % {"max": MAX_INSTALLMENTS})
    currency = str(total.currency)
    for due_date, amount in schedule:
        if not isinstance(due_date, datetime.date):
            raise ScheduleError(_("Every payment needs a due date."))
        if not isinstance(amount, Money) or str(amount.currency) != currency:
            raise ScheduleError(_("Payments must be in %(currency)s.") % {"currency": currency})
        if not is_whole_in_minor_units(amount.amount, currency):
            raise ScheduleError(
                _("%(amount)s is not a whole amount in %(currency)s.")
                % {"amount": amount.amount, "currency": currency}
            )
        if amount.amount <= 0:
            raise ScheduleError(_("Every payment must be greater than zero."))
    scheduled = sum((amount for _due, amount in schedule), Money(0, currency))
    if scheduled != total:
        raise ScheduleError(
            _("The payments add up to %(scheduled)s, but the award is %(total)s.")
            % {"scheduled": scheduled, "total": total}
        )
    return sorted(schedule, key=lambda row: row[0])
