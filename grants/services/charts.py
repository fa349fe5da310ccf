"""The figures behind the portal's charts, from the same sources as the tables beside them.

- ``fund_money_chart``: a fund's money at the end of each month (received, committed, paid,
  available) from ``ledger.balances_by_month``, the ``FundBalances`` the Fund money table shows.
- ``fund_received_chart``: the public fund page's money received per month (donations net of
  refunds, and other income): only what the page already publishes in total. Commitments by
  month would show single grants, which the transparency pages keep hidden.
- ``transparency_charts``: granted per quarter and program type, from a transparency
  ``Report``'s cells, already suppressed: a hidden cell stays hidden in the picture.
- ``donations_chart``: gifts per month from the staff donations list (with its filters).

Amounts of different currencies are never added: each currency gets its own chart.
"""

import datetime
import itertools
from collections import defaultdict
from decimal import Decimal

from babel.dates import format_date, format_skeleton
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from djmoney.money import Money

from grants.charts import Chart, Series, locale, number
from grants.models import DonationStatus, Fund
from grants.money import ExactSum
from grants.services import ledger, page_cache, transparency

MONTHS = 12
# Gifts whose money came in (even if some of it went back later).
RECEIVED_STATES = (
    DonationStatus.COMPLETED,
    DonationStatus.PARTIALLY_REFUNDED,
    DonationStatus.REFUNDED,
    DonationStatus.DISPUTED,
    DonationStatus.LOST_DISPUTE,
)


def last_months(today: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """First days of the ``count`` months up to ``today``'s, oldest first."""
    months, year, month = [], today.year, today.month
    for _step in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def months_between(start: datetime.date, end: datetime.date, limit: int = 36) -> list[datetime.date]:
    """First days of the months from ``start``'s to ``end``'s (the last ``limit`` at most)."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months[-limit:]


def month_short(day: datetime.date) -> str:
    """ "Jan" / "ene": under the x axis."""
    return format_date(day, "LLL", locale=locale())


def month_long(day: datetime.date) -> str:
    """ "January 2026" / "enero de 2026": in the tables and descriptions."""
    return format_skeleton("yMMMM", day, locale=locale())


def format_money(value: Money) -> str:
    """The project's money format in the reader's language (``portal_tags.money``)."""
    from cms.templatetags.portal_tags import money  # the template tags import cms.models

    return money(value)


def _unit(currency: str) -> str:
    return _("Amounts in %(currency)s.") % {"currency": currency}


# --- A fund's money through the year --------------------------------------------------------


def fund_money_chart(fund: Fund, *, today: datetime.date | None = None) -> Chart:
    """Received, committed, paid and available at the end of each of the last twelve months.

    Each figure counts everything since the fund began, as the Fund money table does, so the
    last month's figures are the table's (``ledger.balances_by_month``)."""
    months = last_months(today or timezone.localdate())
    figures = ledger.balances_by_month(fund, months)
    names = {
        "received": pgettext("money", "Received"),
        "committed": _("Committed"),
        "paid": _("Paid"),
        "available": _("Available"),
    }
    values = {key: [getattr(balances, key) for _month, balances in figures] for key in names}
    last = {key: format_money(values[key][-1]) for key in names}
    start, end = month_long(months[0]), month_long(months[-1])
    if not any(value.amount for series in values.values() for value in series):
        description = _("No money has moved in this fund yet.")
    else:
        description = _(
            "The fund's money at the end of each month from %(start)s to %(end)s, counted since the "
            "fund began. At the end of %(end)s: received %(received)s, committed %(committed)s, "
            "paid %(paid)s, available %(available)s."
        ) % {"start": start, "end": end, **last}
    return Chart(
        kind="line",
        uid=f"fund-money-{fund.pk}",
        title=_("Money through the year"),
        description=description,
        unit=_unit(fund.currency),
        categories=[month_short(m) for m in months],
        series=[Series(label, [v.amount for v in values[key]]) for key, label in names.items()],
        table_caption=_("The fund's money at the end of each month"),
        table_head=[_("Month"), *names.values()],
        table_rows=[
            [month_long(month), *(format_money(values[key][i]) for key in names)]
            for i, month in enumerate(months)
        ],
    )


RECEIVED_CACHE_SECONDS = 15 * 60


def _received_by_month(fund: Fund, months: list[datetime.date]) -> list[Money]:
    """Money received per month, kept in the cache under the public pages' version (a gift, a
    refund or a fund edit moves it on), so a public fund page reads the ledger once per change."""
    key = f"fund-received:{fund.pk}:{months[-1].isoformat()}:{page_cache.current_version()}"
    cached = cache.get(key)
    if cached is None:
        figures = ledger.balances_by_month(fund, [_previous_month(months[0]), *months])
        totals = [balances.received - balances.refunds for _month, balances in figures]
        cached = [str((later - earlier).amount) for earlier, later in itertools.pairwise(totals)]
        cache.set(key, cached, RECEIVED_CACHE_SECONDS)
    return [Money(Decimal(amount), fund.currency) for amount in cached]


def fund_received_chart(fund: Fund, *, today: datetime.date | None = None) -> Chart:
    """Money received by the fund in each of the last twelve months (public fund page)."""
    months = last_months(today or timezone.localdate())
    received = _received_by_month(fund, months)
    label = pgettext("money", "Received")
    total = sum((r for r in received), Money(0, fund.currency))
    if not any(r.amount for r in received):
        description = _("The fund received no money in the last twelve months.")
    else:
        description = _(
            "Money the fund received each month from %(start)s to %(end)s (gifts net of refunds, and other "
            "income): %(total)s in all."
        ) % {"start": month_long(months[0]), "end": month_long(months[-1]), "total": format_money(total)}
    return Chart(
        kind="bar",
        uid=f"fund-received-{fund.pk}",
        title=_("Money received each month"),
        description=description,
        unit=_unit(fund.currency),
        categories=[month_short(m) for m in months],
        series=[Series(label, [r.amount for r in received])],
        table_caption=_("Money received each month"),
        table_head=[_("Month"), label],
        table_rows=[[month_long(m), format_money(r)] for m, r in zip(months, received, strict=True)],
    )


def _previous_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year - 1, 12, 1) if day.month == 1 else datetime.date(day.year, day.month - 1, 1)


# --- Transparency ----------------------------------------------------------------------------


def quarter_label(quarter: int) -> str:
    return pgettext("quarter of a year", "Q%(number)s") % {"number": quarter}


def transparency_charts(report, *, uid: str = "transparency") -> list[Chart]:
    """Granted per quarter and program type, one chart per currency, from the report's cells.

    A hidden cell (``Cell.granted is None``) stays ``None``: no bar, no figure in the table, and
    the scale comes from the figures shown only."""
    charts = []
    for n, (currency, rows) in enumerate(report.rows):
        rows = [row for row in rows if row is not None]
        if not rows:
            continue
        series = [
            Series(row.label, [None if cell.is_hidden else cell.granted.amount for cell in row.quarters])
            for row in rows
        ]

        def shown(cell) -> str:
            if cell.hidden == transparency.SMALL:
                return ngettext("Fewer than %(min)s grant", "Fewer than %(min)s grants", report.min_group) % {
                    "min": report.min_group
                }
            if cell.is_hidden:
                return _("Not shown, to protect a smaller figure")
            return format_money(cell.granted)

        table_rows = [
            [quarter_label(quarter + 1), *(shown(row.quarters[quarter]) for row in rows)]
            for quarter in range(4)
        ]
        table_rows.append([_("All of %(year)s") % {"year": report.year}, *(shown(row.year) for row in rows)])
        parts = "; ".join(
            f"{row.label}: {format_money(row.year.granted)}" for row in rows if not row.year.is_hidden
        )
        description = _("Money granted in %(year)s, by quarter and program type.") % {"year": report.year}
        if parts:
            description += " " + _("Granted in the year: %(parts)s.") % {"parts": parts}
        if any(s_value is None for s in series for s_value in s.values):
            description += " " + _("Some figures are hidden to protect small groups of grantees.")
        charts.append(
            Chart(
                kind="bar",
                uid=f"{uid}-{n}",
                title=_("Granted by quarter and program type")
                + (f" ({currency})" if len(report.rows) > 1 else ""),
                description=description,
                unit=_unit(currency),
                categories=[quarter_label(q) for q in (1, 2, 3, 4)],
                series=series,
                table_caption=_("Granted by quarter and program type"),
                table_head=[_("Quarter"), *(row.label for row in rows)],
                table_rows=table_rows,
                hidden_note=_("Hidden, to protect small groups of grantees"),
            )
        )
    return charts


# --- Donations over time ---------------------------------------------------------------------


def donations_chart(donations, *, date_from=None, date_to=None, today=None) -> list[Chart]:
    """Gifts per month from ``donations`` (the staff list's filtered queryset), per currency.

    The months are those of the filter's dates, or the last twelve. Only gifts whose money came
    in count; the refunded part is its own series."""
    today = today or timezone.localdate()
    if date_from or date_to:
        months = months_between(date_from or (date_to - datetime.timedelta(days=335)), date_to or today)
    else:
        months = last_months(today)
    if not months:
        return []
    rows = (
        donations.filter(status__in=RECEIVED_STATES, gift_date__gte=months[0])
        .annotate(month=TruncMonth("gift_date"))
        .values_list("month", "gross_currency")
        .annotate(gross=ExactSum("gross"), refunded=ExactSum("amount_refunded"), gifts=Count("pk"))
        .order_by()
    )
    end = months[-1]
    figures: dict = defaultdict(dict)
    for month, currency, gross, refunded, gifts in rows:
        month = month.date() if isinstance(month, datetime.datetime) else month
        if month <= end:
            figures[currency][month] = (Decimal(gross or 0), Decimal(refunded or 0), gifts)
    charts = []
    for currency in sorted(figures):
        nothing = (Decimal(0), Decimal(0), 0)
        per_month = [figures[currency].get(m, nothing) for m in months]
        given, refunded = pgettext("donations", "Given"), pgettext("donations", "Refunded")
        total = sum((g for g, _r, _n in per_month), Decimal(0))
        count = sum(n for _g, _r, n in per_month)
        description = _(
            "Gifts received each month from %(start)s to %(end)s, and the part refunded: %(count)s gifts, "
            "%(total)s in all."
        ) % {
            "start": month_long(months[0]),
            "end": month_long(months[-1]),
            "count": number(count),
            "total": format_money(Money(total, currency)),
        }
        charts.append(
            Chart(
                kind="bar",
                uid=f"donations-{currency.lower()}",
                title=_("Gifts by month") + (f" ({currency})" if len(figures) > 1 else ""),
                description=description,
                unit=_unit(currency),
                categories=[month_short(m) for m in months],
                series=[
                    Series(given, [g for g, _r, _n in per_month]),
                    Series(refunded, [r for _g, r, _n in per_month]),
                ],
                table_caption=_("Gifts by month"),
                table_head=[_("Month"), _("Gifts"), given, refunded],
                table_rows=[
                    [
                        month_long(m),
                        number(n),
                        format_money(Money(g, currency)),
                        format_money(Money(r, currency)),
                    ]
                    for m, (g, r, n) in zip(months, per_month, strict=True)
                ],
            )
        )
    return charts
