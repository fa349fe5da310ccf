"""Public transparency reports: where a foundation's money went, without exposing small groups.

``foundation_report(foundation, *, year=None)`` and ``fund_report(fund, *, year=None)`` read the
ledger and return a ``Report``: money raised (donations − refunds) and other income, granted
(committed net) and paid, by program type and calendar quarter, per currency (amounts of
different currencies are never added); the number of grants; program-metric totals from
accepted spending reports; and the names of grantees that chose to be named.

What a *grant* is here: an award offered in the year (quarter of its offered date, in the
portal's time zone) that is not cancelled, or that was cancelled after money went out (net
committed still above zero). Its amounts are the award's own ledger lines, whatever their date:
*granted* is the net of "grants awarded" (commitments, amendments, releases), *paid* is granted
minus what is still payable. So a year's figures equal the ledger for the awards offered in it.
``year=None`` means the latest year with activity; there is no all-years table, because an
all-years total next to yearly ones would let a reader subtract.

Suppression (``settings.TRANSPARENCY_MIN_GROUP``, *min* below):

- *Primary*: every published figure that describes 1 … min−1 grants is hidden: a quarter of a
  program type, a program's year total, a fund's quarter or year (fund pages), the all-programs
  totals. Figures about zero grants show zero.
- *Complementary* (chosen over dropping totals): all figures of a foundation and year — the
  foundation page and every fund page — form one system of sums (row = its quarters, program =
  its funds, all programs = the program types). After primary suppression we solve that system
  for the hidden cells; while any hidden cell is determined by the visible ones, one more figure
  in the same sum is hidden, preferring the one about the fewest grants (never zero, unless
  nothing else is left). The fund pages are part of the system, so subtracting one fund's page
  from the foundation page recovers nothing either. A cell's count, amount granted and amount
  paid are hidden together.
- Program metrics: a total from fewer than min reports is hidden, and the foundation total of a
  metric with the fund totals make a sum protected the same way.
- Names: only organizations with ``publish_name`` are named. The others are counted ("N groups
  asked not to be named") when N ≥ min; when 0 < N < min the list is not shown at all, since the
  list beside the grant count would reveal the small remainder. On the foundation page, the
  count is also left out when any fund's list is hidden (it would give that fund's remainder).

Limits, stated plainly: bounds are not modelled (a reader who knows counts are 1 … min−1 can
sometimes narrow a hidden *count*, never pin a hidden amount from the sums), and organizations
are counted, not grants, in the names list.
"""

import datetime
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone
from djmoney.money import Money

from grants.metrics import DEFAULT_METRICS, NUMBER
from grants.models import (
    NORMAL_BALANCE,
    AccountKind,
    Award,
    AwardStatus,
    Foundation,
    Fund,
    JournalEntry,
    JournalLine,
    ProgramType,
    ReportStatus,
    SpendingReport,
    translated,
)
from grants.money import ExactSum
from grants.services.ledger import FundBalances

QUARTERS = (1, 2, 3, 4)
YEAR = "year"
VISIBLE, SMALL, COMPLEMENT = "", "small", "complement"
CACHE_SECONDS = 600
INCOME_KINDS = (
    AccountKind.DONATIONS,
    AccountKind.REFUNDS,
    AccountKind.OTHER_INCOME,
    AccountKind.OPENING_BALANCE,
)


# --- The pure part: facts in, suppressed tables out ------------------------------------------


@dataclass(frozen=True)
class GrantFact:
    """One grant as the tables see it. ``fund`` is empty when a program type has one fund."""

    program_type: str
    quarter: int
    amount: Decimal
    currency: str = "USD"
    paid: Decimal = Decimal(0)
    fund: str = ""


@dataclass(frozen=True)
class Cell:
    """One published figure: number of grants, granted, paid — or ``hidden`` (why) and nothing."""

    grants: int | None
    granted: Money | None
    paid: Money | None
    hidden: str = VISIBLE

    @property
    def is_hidden(self) -> bool:
        return bool(self.hidden)


@dataclass(frozen=True)
class Row:
    """One program type (or fund, or all programs): a cell per quarter and one for the year."""

    key: tuple
    program_type: str
    label: str
    quarters: tuple[Cell, ...]
    year: Cell

    @property
    def quarter_cells(self):
        return list(zip(QUARTERS, self.quarters, strict=True))


@dataclass(frozen=True)
class CurrencyTable:
    """Everything granted in one currency: program rows, the all-programs row, the fund rows."""

    currency: str
    programs: tuple[Row, ...]
    total: Row
    funds: dict  # fund slug -> Row (the program row when the program type has one fund)


def recoverable(hidden: Iterable[Hashable], equations: Sequence[tuple[Hashable, Sequence[Hashable]]]) -> list:
    """Hidden terms whose value follows from the visible ones through ``equations``.

    Each equation says ``total = sum(parts)``. Visible terms are constants; a hidden term is
    determined exactly when every solution of the homogeneous system has it at zero, i.e. its
    column is a pivot whose reduced row has no free variable.
    """
    order = list(dict.fromkeys(hidden))
    index = {term: position for position, term in enumerate(order)}
    rows = []
    for total, parts in equations:
        row = [0] * len(order)
        for term, sign in [(total, 1), *((part, -1) for part in parts)]:
            if term in index:
                row[index[term]] = (row[index[term]] + sign) % PRIME
        if any(row):
            rows.append(row)
    pivots = _reduce(rows, len(order))
    free = [column for column in range(len(order)) if column not in pivots]
    return [
        order[column]
        for column, row_number in pivots.items()
        if not any(rows[row_number][other] for other in free)
    ]


# Row reduction over the integers modulo a large prime: exact for these 0/±1 systems unless a
# minor happens to be a multiple of the prime (never for tables of this size), and much faster
# than fractions, which matters because suppression looks one step ahead.
PRIME = 2**61 - 1


def _reduce(rows: list[list[int]], width: int) -> dict[int, int]:
    """Bring ``rows`` to reduced row echelon form (mod ``PRIME``) in place; return {pivot column: row}."""
    pivots: dict[int, int] = {}
    top = 0
    for column in range(width):
        found = next((r for r in range(top, len(rows)) if rows[r][column]), None)
        if found is None:
            continue
        rows[top], rows[found] = rows[found], rows[top]
        inverse = pow(rows[top][column], -1, PRIME)
        rows[top] = [value * inverse % PRIME for value in rows[top]]
        for r in range(len(rows)):
            if r != top and rows[r][column]:
                factor = rows[r][column]
                rows[r] = [(a - factor * b) % PRIME for a, b in zip(rows[r], rows[top], strict=True)]
        pivots[column] = top
        top += 1
        if top == len(rows):
            break
    return pivots


def suppress(
    counts: dict[Hashable, int], equations: Sequence[tuple[Hashable, Sequence[Hashable]]], min_group: int
) -> dict[Hashable, str]:
    """Which terms to hide, and why (``SMALL`` or ``COMPLEMENT``). See the module docstring."""
    hidden = {term: SMALL for term, count in counts.items() if 0 < count < min_group}
    position = {term: n for n, term in enumerate(counts)}

    def preference(term):
        return (counts[term] == 0, counts[term], position[term])

    determined = recoverable(hidden, equations)
    while determined:
        target = determined[0]
        near = [term for total, parts in equations if target in (total, *parts) for term in (total, *parts)]
        anywhere = [
            term
            for total, parts in equations
            if any(t in hidden for t in (total, *parts))
            for term in (total, *parts)
        ]
        candidates = list(dict.fromkeys(t for t in near if t not in hidden)) or list(
            dict.fromkeys(t for t in anywhere if t not in hidden)
        )
        if not candidates:
            break
        # Look one step ahead: the figure whose hiding leaves the fewest cells determined,
        # then the one about the fewest grants (never a zero while another will do).
        outcomes = {c: recoverable([*hidden, c], equations) for c in candidates}
        choice = min(candidates, key=lambda c: (len(outcomes[c]), *preference(c)))
        hidden[choice] = COMPLEMENT
        determined = outcomes[choice]
    return hidden


def _program_label(program_type: str) -> str:
    return str(ProgramType(program_type).label) if program_type in ProgramType.values else program_type


def build_tables(grants: Iterable[GrantFact], min_group: int) -> list[CurrencyTable]:
    """The suppressed tables of one year's grants, one per currency (see the module docstring)."""
    by_currency: dict[str, list[GrantFact]] = defaultdict(list)
    for fact in grants:
        by_currency[fact.currency].append(fact)
    return [_currency_table(currency, facts, min_group) for currency, facts in sorted(by_currency.items())]


def _currency_table(currency: str, facts: list[GrantFact], min_group: int) -> CurrencyTable:
    programs = sorted({fact.program_type for fact in facts})
    funds_of = {p: sorted({fact.fund for fact in facts if fact.program_type == p}) for p in programs}
    # A program type with one fund: that fund's row is the program row (no duplicate terms).
    fund_rows = {p: [("fund", p, f) for f in funds_of[p]] if len(funds_of[p]) > 1 else [] for p in programs}
    # Likewise the all-programs row is the program row when there is one program type.
    total_key = ("all",) if len(programs) > 1 else ("program", programs[0])
    all_rows = [("program", p) for p in programs] + [r for p in programs for r in fund_rows[p]]
    if total_key == ("all",):
        all_rows.insert(0, total_key)
    columns = (*QUARTERS, YEAR)

    counts: dict = {(row, col): 0 for row in all_rows for col in columns}
    granted: dict = defaultdict(Decimal)
    paid: dict = defaultdict(Decimal)
    for fact in facts:
        rows = [("program", fact.program_type)] + ([total_key] if total_key == ("all",) else [])
        if fund_rows[fact.program_type]:
            rows.append(("fund", fact.program_type, fact.fund))
        for row in rows:
            for col in (fact.quarter, YEAR):
                counts[(row, col)] += 1
                granted[(row, col)] += fact.amount
                paid[(row, col)] += fact.paid

    equations = []
    for row in all_rows:
        equations.append(((row, YEAR), [(row, q) for q in QUARTERS]))
    for col in columns:
        if total_key == ("all",):
            equations.append(((total_key, col), [(("program", p), col) for p in programs]))
        for p in programs:
            if fund_rows[p]:
                equations.append(((("program", p), col), [(r, col) for r in fund_rows[p]]))
    hidden = suppress(counts, equations, min_group)

    def cell(term) -> Cell:
        if term in hidden:
            return Cell(None, None, None, hidden[term])
        return Cell(counts[term], Money(granted[term], currency), Money(paid[term], currency))

    def row(key, program_type, label) -> Row:
        return Row(key, program_type, label, tuple(cell((key, q)) for q in QUARTERS), cell((key, YEAR)))

    program_rows = tuple(row(("program", p), p, _program_label(p)) for p in programs)
    funds = {}
    for p, program_row in zip(programs, program_rows, strict=True):
        if fund_rows[p]:
            for key in fund_rows[p]:
                funds[key[2]] = row(key, p, key[2])
        else:
            funds[funds_of[p][0]] = program_row
    total = row(total_key, "", "") if total_key == ("all",) else program_rows[0]
    return CurrencyTable(currency, program_rows, total, funds)


@dataclass(frozen=True)
class MetricTotal:
    """A program metric summed over accepted reports, or hidden (``total`` is then None)."""

    key: str
    label: str
    total: Decimal | None
    reports: int | None
    hidden: str = VISIBLE


def build_metrics(
    values: Iterable[tuple[str, str, Decimal]], labels: dict[str, str], min_group: int
) -> tuple[list[MetricTotal], dict[str, list[MetricTotal]]]:
    """Metric totals from ``(fund, key, value)`` per report: (foundation's, {fund: fund's})."""
    counts: dict = {}
    totals: dict = defaultdict(Decimal)
    for fund, key, value in values:
        for term in (("all", key), ("fund", fund, key)):
            counts[term] = counts.get(term, 0) + 1
            totals[term] += value
    keys = sorted({term[-1] for term in counts})
    funds = sorted({term[1] for term in counts if term[0] == "fund"})
    equations = [
        (("all", key), [("fund", f, key) for f in funds if ("fund", f, key) in counts]) for key in keys
    ]
    hidden = suppress(counts, equations, min_group)

    def total(term) -> MetricTotal:
        key = term[-1]
        label = labels.get(key) or key.replace("_", " ").capitalize()
        if term in hidden:
            return MetricTotal(key, label, None, None, hidden[term])
        return MetricTotal(key, label, totals[term], counts[term])

    by_fund = {f: [total(("fund", f, key)) for key in keys if ("fund", f, key) in counts] for f in funds}
    return [total(("all", key)) for key in keys], by_fund


@dataclass(frozen=True)
class Names:
    """Grantees that chose to be named, and how many did not (None when not shown)."""

    names: tuple[str, ...]
    unnamed: int | None
    hidden: bool = False


def build_names(organizations: Iterable[tuple[int, str, bool]], min_group: int) -> Names:
    """Names of ``(id, name, publish_name)`` organizations; hidden when the unnamed rest is small."""
    named, unnamed = {}, set()
    for pk, name, publish in organizations:
        if publish:
            named[pk] = name
        else:
            unnamed.add(pk)
    if 0 < len(unnamed) < min_group:
        return Names((), None, hidden=True)
    return Names(tuple(sorted(named.values(), key=str.casefold)), len(unnamed))


# --- Reading the database ---------------------------------------------------------------------


@dataclass(frozen=True)
class MoneySummary:
    """One currency's headline figures for the year."""

    currency: str
    raised: Money  # donations minus refunds
    other_income: Money
    granted: Cell  # the year total of the grants (count, granted, paid)


@dataclass
class Report:
    """What a public transparency page shows for one foundation (or fund) and year."""

    foundation_name: str
    foundation_slug: str
    year: int
    years: list[int]
    min_group: int
    money: list[MoneySummary]
    tables: list[CurrencyTable]
    rows: list[tuple[str, list[Row]]]  # per currency: the rows this page shows
    metrics: list[MetricTotal]
    names: Names
    fund_name: str = ""
    fund_slug: str = ""
    program_type: str = ""
    call_ids: frozenset = field(default_factory=frozenset)
    revolving: object = None  # a bond fund's page: ``bond_reporting.PublicRevolving`` (set by the view)


def quarter_of(moment: datetime.datetime) -> int:
    """The calendar quarter (1–4) of ``moment`` in the portal's time zone."""
    return (timezone.localtime(moment).month - 1) // 3 + 1


def activity_years(foundation: Foundation) -> list[int]:
    """Years (newest first) in which the foundation offered an award or moved money."""
    years = {
        moment.year
        for moment in Award.objects.filter(fund__foundation=foundation).datetimes("offered_at", "year")
    }
    years |= {
        day.year for day in JournalEntry.objects.filter(foundation=foundation).dates("effective_date", "year")
    }
    return sorted(years, reverse=True)


def _default_labels() -> dict[str, str]:
    return {m.key: str(m.label) for metrics in DEFAULT_METRICS.values() for m in metrics if m.kind == NUMBER}


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _compute(foundation: Foundation, year: int | None) -> dict:
    """The foundation-wide figures of ``year``: every page of that year is cut from these."""
    min_group = settings.TRANSPARENCY_MIN_GROUP
    years = activity_years(foundation)
    year = year or (years[0] if years else timezone.localdate().year)
    funds = {fund.pk: fund for fund in Fund.objects.filter(foundation=foundation)}

    awards = list(
        Award.objects.filter(fund__foundation=foundation, offered_at__year=year).select_related(
            "application__organization"
        )
    )
    sums: dict = defaultdict(Decimal)
    lines = (
        JournalLine.objects.filter(
            entry__award__in=[a.pk for a in awards],
            account__kind__in=[AccountKind.GRANTS_AWARDED, AccountKind.GRANTS_PAYABLE],
        )
        .values("entry__award_id", "account__kind")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )
    for line in lines:
        kind = AccountKind(line["account__kind"])
        sums[(line["entry__award_id"], kind)] = Decimal(line["total"] or 0) * NORMAL_BALANCE[kind]

    grants, organizations = [], defaultdict(list)
    for award in awards:
        committed = sums[(award.pk, AccountKind.GRANTS_AWARDED)]
        if award.status == AwardStatus.CANCELLED and committed <= 0:
            continue
        fund = funds[award.fund_id]
        grants.append(
            GrantFact(
                program_type=fund.program_type,
                quarter=quarter_of(award.offered_at),
                amount=committed,
                currency=fund.currency,
                paid=committed - sums[(award.pk, AccountKind.GRANTS_PAYABLE)],
                fund=fund.slug,
            )
        )
        organization = award.application.organization
        organizations[fund.slug].append((organization.pk, organization.name, organization.publish_name))
    counted = {
        a.pk
        for a in awards
        if a.status != AwardStatus.CANCELLED or sums[(a.pk, AccountKind.GRANTS_AWARDED)] > 0
    }

    income: dict = defaultdict(lambda: defaultdict(Decimal))
    rows = (
        JournalLine.objects.filter(
            account__fund__foundation=foundation,
            account__kind__in=INCOME_KINDS,
            entry__effective_date__year=year,
        )
        .values("account__fund_id", "account__kind")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )
    for row in rows:
        kind = AccountKind(row["account__kind"])
        income[row["account__fund_id"]][kind] += Decimal(row["total"] or 0) * NORMAL_BALANCE[kind]

    labels = _default_labels()
    values, call_ids = [], set()
    fund_of_award = {a.pk: funds[a.fund_id].slug for a in awards}
    for report in SpendingReport.objects.filter(status=ReportStatus.ACCEPTED, award_id__in=counted).values(
        "award_id", "metrics", "award__application__call_id"
    ):
        call_ids.add(report["award__application__call_id"])
        for key, raw in (report["metrics"] or {}).items():
            number = _number(raw)
            if number is not None:
                values.append((fund_of_award[report["award_id"]], key, number))
    metrics, metrics_by_fund = build_metrics(values, labels, min_group)

    fund_names = {slug: build_names(orgs, min_group) for slug, orgs in organizations.items()}
    foundation_names = build_names([org for orgs in organizations.values() for org in orgs], min_group)
    if any(names.hidden for names in fund_names.values()) and not foundation_names.hidden:
        foundation_names = Names(foundation_names.names, None)

    return {
        "min_group": min_group,
        "year": year,
        "years": years,
        "funds": funds,
        "tables": build_tables(grants, min_group),
        "income": income,
        "metrics": metrics,
        "metrics_by_fund": metrics_by_fund,
        "names": foundation_names,
        "fund_names": fund_names,
        "call_ids": frozenset(call_ids),
    }


def _money_summary(currency: str, income: list[dict], granted: Cell) -> MoneySummary:
    by_account: dict = defaultdict(Decimal)
    for kinds in income:
        for kind, amount in kinds.items():
            by_account[kind] += amount
    balances = FundBalances(currency, {kind: Money(amount, currency) for kind, amount in by_account.items()})
    return MoneySummary(currency, balances.donations - balances.refunds, balances.other_income, granted)


def _empty_cell(currency: str) -> Cell:
    return Cell(0, Money(0, currency), Money(0, currency))


def foundation_report(foundation: Foundation, *, year: int | None = None) -> Report:
    """The foundation's public report for ``year`` (latest year with activity when None)."""
    data = _compute(foundation, year)
    tables = {table.currency: table for table in data["tables"]}
    currencies = sorted({fund.currency for fund in data["funds"].values()} | set(tables))
    money = []
    for currency in currencies:
        income = [data["income"][pk] for pk, fund in data["funds"].items() if fund.currency == currency]
        table = tables.get(currency)
        money.append(_money_summary(currency, income, table.total.year if table else _empty_cell(currency)))
    return Report(
        foundation_name=foundation.name,
        foundation_slug=foundation.slug,
        year=data["year"],
        years=data["years"],
        min_group=data["min_group"],
        money=money,
        tables=list(tables.values()),
        rows=[(table.currency, list(table.programs)) for table in tables.values()],
        metrics=data["metrics"],
        names=data["names"],
        call_ids=data["call_ids"],
    )


def fund_report(fund: Fund, *, year: int | None = None) -> Report:
    """One fund's public report for ``year``: its row of the foundation's suppressed tables."""
    data = _compute(fund.foundation, year)
    table = next((t for t in data["tables"] if t.currency == fund.currency), None)
    row = table.funds.get(fund.slug) if table else None
    granted = row.year if row else _empty_cell(fund.currency)
    return Report(
        foundation_name=fund.foundation.name,
        foundation_slug=fund.foundation.slug,
        year=data["year"],
        years=data["years"],
        min_group=data["min_group"],
        money=[_money_summary(fund.currency, [data["income"][fund.pk]], granted)],
        tables=[],
        rows=[(fund.currency, [row])] if row else [],
        metrics=data["metrics_by_fund"].get(fund.slug, []),
        names=data["fund_names"].get(fund.slug, Names((), 0)),
        fund_name=translated(fund, "name"),
        fund_slug=fund.slug,
        program_type=fund.program_type,
        call_ids=data["call_ids"],
    )


def report_cache_key(foundation_id: int, fund_id: int | None, year: int | None, language: str) -> str:
    """Where a rendered report is cached (``CACHE_SECONDS``; not invalidated before that)."""
    return f"transparency:{foundation_id}:{fund_id or '-'}:{year or 'latest'}:{language}"
