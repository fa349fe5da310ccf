"""Public transparency pages: figures equal the ledger, and small groups cannot be picked out."""

import datetime
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.models import Award, PayeeAccount, ProgramType, ReportStatus, Role, SpendingReport
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import awards, installments, ledger, offline_gifts, payments, transparency
from grants.services.transparency import (
    COMPLEMENT,
    QUARTERS,
    SMALL,
    YEAR,
    GrantFact,
    build_metrics,
    build_names,
    build_tables,
)
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, approved_application
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date
MIN = 3


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.TRANSPARENCY_MIN_GROUP = MIN
    cache.clear()
    yield
    cache.clear()


def grant(world, amount, *, name="Grupo", publish=False, fund=None, offered=None):
    """An award of ``amount`` to a new organization (named publicly or not), offered on ``offered``."""
    fund = fund or world["fund"]
    organization = OrganizationFactory(name=name, publish_name=publish)
    application = approved_application(
        fund, decided_by=world["officer"], amount=usd(amount), organization=organization
    )
    award = awards.make_award(
        application,
        by=world["officer"],
        amount=usd(amount),
        start_date=D(2026, 2, 1),
        end_date=D(2027, 1, 31),
        schedule=[(D(2026, 2, 1), usd(amount))],
        report_dates=[("final", D(2027, 3, 1))],
    )
    if offered:
        Award.objects.filter(pk=award.pk).update(offered_at=offered)
        award.refresh_from_db()
    return award


def gift(world, amount, on=None):
    return offline_gifts.record_offline_gift(
        fund=world["fund"],
        donor_name="Dana Donor",
        donor_email=f"dana{amount}@example.org",
        amount=usd(amount),
        channel="cash",
        received_on=on or D(2026, 3, 1),
        by=world["finance"],
        send_receipt=False,
    )


def accepted_report(award, metrics):
    due = award.report_due_dates.first()
    return SpendingReport.objects.create(award=award, due=due, status=ReportStatus.ACCEPTED, metrics=metrics)


def at(month, day=15, year=2026):
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


def page(client, foundation_slug, fund_slug=None, language="en", **query):
    with translation.override(language):
        if fund_slug:
            url = reverse("transparency_fund", args=[foundation_slug, fund_slug])
        else:
            url = reverse("transparency_foundation", args=[foundation_slug])
    return client.get(url, query)


# --- Figures equal the ledger ----------------------------------------------------------------


def test_figures_equal_the_ledger(world, django_capture_on_commit_callbacks):
    """$20,000 by check, a $500 gift, three awards (one paid), one cancelled: the ledger's sums."""
    fund_with(world, 20000)
    gift(world, 500)
    paid_award = award_for(world, 1000)  # to the world's grantee, paid below
    grant(world, 2000, name="Red de Apoyo")
    grant(world, 3000, name="Centro Obrero")
    cancelled = grant(world, 700, name="Cancelled Group")
    awards.cancel_award(cancelled, by=world["officer"], reason="Withdrew")
    awards.accept_award(paid_award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(
            PayeeAccount.objects.get().stripe_account_id, "complete"
        )
    with django_capture_on_commit_callbacks(execute=True):
        payments.release_installment(paid_award.installments.get(), by=world["finance"])

    b = ledger.balances(world["fund"])
    for report in (
        transparency.foundation_report(world["foundation"], year=2026),
        transparency.fund_report(world["fund"], year=2026),
    ):
        (money,) = report.money
        assert money.raised == b.donations - b.refunds == usd(500)
        assert money.other_income == b.other_income == usd(20000)
        assert money.granted.grants == 3
        assert money.granted.granted == b.committed == usd(6000)
        assert money.granted.paid == b.paid == usd(1000)
    report = transparency.foundation_report(world["foundation"], year=2026)
    (row,) = report.tables[0].programs
    quarter = transparency.quarter_of(paid_award.offered_at)
    assert row.quarters[quarter - 1].granted == usd(6000)
    assert row.year.grants == 3
    assert report.years == [2026]


def test_the_fund_page_links_from_the_fund_and_shows_the_ledger_figures(world, client):
    fund_with(world, 20000)
    for number in range(3):
        grant(world, 1000 * (number + 1), name=f"Group {number}")
    response = page(client, "bay-area", world["fund"].slug, year="2026")
    assert response.status_code == 200
    body = response.content.decode()
    assert "$6,000.00" in body
    assert "$20,000.00" in body


# --- Names -----------------------------------------------------------------------------------


def test_only_groups_that_chose_it_are_named(world, client):
    fund_with(world, 50000)
    grant(world, 1000, name="Named Workers Center", publish=True)
    for number in range(3):
        grant(world, 1000, name=f"Quiet Group {number}")
    body = page(client, "bay-area").content.decode()
    assert "Named Workers Center" in body
    assert "Quiet Group" not in body
    assert "3 groups asked not to be named" in body


def test_the_list_is_hidden_when_few_groups_asked_not_to_be_named(world, client):
    fund_with(world, 50000)
    for number in range(3):
        grant(world, 1000, name=f"Open Group {number}", publish=True)
    grant(world, 1000, name="Quiet Group")
    body = page(client, "bay-area").content.decode()
    assert "Open Group" not in body
    assert "Quiet Group" not in body
    assert "The list is not shown" in body


def test_build_names_counts_organizations_not_awards():
    names = build_names([(1, "B", True), (2, "a", True), (3, "x", False), (3, "x", False)], MIN)
    assert names.hidden
    names = build_names(
        [(1, "B", True), (2, "a", True), (3, "x", False), (4, "y", False), (5, "z", False)], MIN
    )
    assert (names.names, names.unnamed, names.hidden) == (("a", "B"), 3, False)


# --- Suppression on the page -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "marker", "complement"),
    [
        ("en", "Fewer than 3 grants", "Not shown, to protect a smaller figure"),
        ("es", "Menos de 3 subvenciones", "No se muestra, para proteger una cifra menor"),
    ],
)
def test_a_quarter_with_one_grant_is_suppressed_with_its_partner(world, client, language, marker, complement):
    fund_with(world, 50000)
    for number in range(4):
        grant(world, 1000, name=f"Group {number}", offered=at(2))
    grant(world, 7777, name="Lonely Group", offered=at(8))
    body = page(client, "bay-area", language=language, year="2026").content.decode()
    assert marker in body
    assert complement in body
    assert "7,777" not in body and "7.777" not in body
    # Q1 is hidden too, or its $4,000 and the year's $11,777 would give Q3 away.
    assert "4,000" not in body and "4.000" not in body
    assert "11,777" in body or "11.777" in body


def test_metric_totals_from_few_reports_are_hidden(world):
    fund_with(world, 50000)
    made = [grant(world, 1000, name=f"Group {n}") for n in range(4)]
    for award in made[:3]:
        accepted_report(award, {"people_represented": "10", "bonds_paid": "x"})
    accepted_report(made[3], {"hearings_attended": "5"})
    report = transparency.foundation_report(world["foundation"])
    metrics = {m.key: m for m in report.metrics}
    assert metrics["people_represented"].total == 30
    assert metrics["people_represented"].label == "People represented"
    assert metrics["hearings_attended"].total is None and metrics["hearings_attended"].hidden == SMALL
    assert "bonds_paid" not in metrics  # not a number


def test_metric_labels_follow_the_readers_language(world):
    fund_with(world, 50000)
    for n in range(3):
        accepted_report(grant(world, 1000, name=f"Group {n}"), {"people_represented": "2"})
    with translation.override("es"):
        report = transparency.foundation_report(world["foundation"])
    assert report.metrics[0].label == "Personas representadas"


# --- Pages: scoping, 404, queries, cache ---------------------------------------------------------


def test_another_foundations_slug_shows_only_its_figures(world, client):
    fund_with(world, 50000)
    for n in range(3):
        grant(world, 4321, name=f"Bay Group {n}", publish=True)
    other = FoundationFactory(slug="valley", name="Valley Foundation")
    other_fund = FundFactory(foundation=other, slug="valley-fund")
    ledger.record_income(
        fund=other_fund, amount=usd(900), source="check", received_on=D(2026, 1, 5), reference="V1",
        by=staff(other, Role.FINANCE_OFFICER),
    )  # fmt: skip
    body = page(client, "valley").content.decode()
    assert "Valley Foundation" in body
    assert "$900.00" in body
    assert "Bay Group" not in body and "12,963" not in body and "Bay Area Foundation" not in body
    assert page(client, "valley", world["fund"].slug).status_code == 404


def test_unknown_slugs_and_bad_years_are_404(world, client):
    assert page(client, "nobody").status_code == 404
    assert page(client, "bay-area", "no-fund").status_code == 404
    assert page(client, "bay-area", year="20x6").status_code == 404


def test_query_count_does_not_grow_with_grants(world, client):
    fund_with(world, 90000)
    grant(world, 1000, name="First", publish=True)
    accepted_report(Award.objects.get(), {"people_represented": "1"})

    def queries(*args):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert page(client, *args).status_code == 200
        return len(captured)

    queries("bay-area"), queries("bay-area", world["fund"].slug)  # site and locale caches warm up
    few = (queries("bay-area"), queries("bay-area", world["fund"].slug))
    second = FundFactory(
        foundation=world["foundation"], slug="second", program_type=ProgramType.CO_ENFORCEMENT
    )
    ledger.record_income(
        fund=second, amount=usd(90000), source="check", received_on=D(2026, 1, 5), reference="C2",
        by=world["finance"],
    )  # fmt: skip
    for n in range(8):
        award = grant(world, 1000, name=f"Group {n}", publish=n % 2 == 0, fund=second if n % 3 else None)
        accepted_report(award, {"people_represented": "3", "workers_trained": "4"})
    assert (queries("bay-area"), queries("bay-area", world["fund"].slug)) == few


def test_the_page_is_cached_until_the_timeout(world, client):
    fund_with(world, 50000)
    assert "No grants this year." in page(client, "bay-area").content.decode()
    for number in range(3):
        grant(world, 1000, name=f"Group {number}")
    with CaptureQueriesContext(connection) as captured:
        body = page(client, "bay-area").content.decode()
    assert "No grants this year." in body  # the cached report, not recomputed
    assert not any("grants_award" in query["sql"] for query in captured)
    cache.clear()
    assert "No grants this year." not in page(client, "bay-area").content.decode()


# --- The pure tables: property-based -----------------------------------------------------------

facts = st.lists(
    st.builds(
        GrantFact,
        program_type=st.sampled_from(["a", "b", "c"]),
        quarter=st.sampled_from(QUARTERS),
        amount=st.integers(min_value=1, max_value=10_000).map(Decimal),
        currency=st.sampled_from(["USD", "USD", "MXN"]),
        paid=st.just(Decimal(0)),
        fund=st.sampled_from(["", "x", "y"]),
    ).map(lambda fact: replace(fact, fund=f"{fact.program_type}{fact.fund}")),  # a fund has one program
    max_size=25,
)


def _published(table):
    """Every published term of a currency table: {(row, column): Cell}."""
    rows = {table.total.key: table.total}
    rows.update({row.key: row for row in table.programs})
    rows.update({row.key: row for row in table.funds.values()})
    return {
        (key, col): cell for key, row in rows.items() for col, cell in [*row.quarter_cells, (YEAR, row.year)]
    }


def _equations(table):
    programs = [row.key for row in table.programs]
    fund_rows: dict = {}
    for row in table.funds.values():
        if row.key[0] == "fund":
            fund_rows.setdefault(("program", row.key[1]), []).append(row.key)
    rows = list(dict.fromkeys([table.total.key, *programs, *[r for rs in fund_rows.values() for r in rs]]))
    equations = [((row, YEAR), [(row, q) for q in QUARTERS]) for row in rows]
    for col in (*QUARTERS, YEAR):
        if table.total.key == ("all",):
            equations.append(((("all",), col), [(p, col) for p in programs]))
        for program, funds in fund_rows.items():
            equations.append(((program, col), [(f, col) for f in funds]))
    return equations


def _rank(matrix):
    rows = [list(map(Fraction, row)) for row in matrix]
    rank, width = 0, len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][column]:
                factor = rows[r][column] / rows[rank][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def _determined(hidden, equations):
    """Hidden terms fixed by the visible ones: column independent of the other hidden columns."""
    hidden = list(hidden)
    matrix = []
    for total, parts in equations:
        row = [0] * len(hidden)
        for term, sign in [(total, 1), *((p, -1) for p in parts)]:
            if term in hidden:
                row[hidden.index(term)] += sign
        if any(row):
            matrix.append(row)
    full = _rank(matrix)
    return [term for i, term in enumerate(hidden) if _rank([row[:i] + row[i + 1 :] for row in matrix]) < full]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grants=facts, min_group=st.integers(min_value=2, max_value=5))
def test_no_small_cell_is_visible_and_no_hidden_one_can_be_recovered(grants, min_group):
    for table in build_tables(grants, min_group):
        cells = _published(table)
        for term, cell in cells.items():
            if not cell.is_hidden:
                assert cell.grants == 0 or cell.grants >= min_group, term
        hidden = [term for term, cell in cells.items() if cell.is_hidden]
        assert _determined(hidden, _equations(table)) == []
        # The visible figures agree with the facts they describe.
        mine = [g for g in grants if g.currency == table.currency]
        if not table.total.year.is_hidden:
            assert table.total.year.grants == len(mine)
            assert table.total.year.granted.amount == sum(g.amount for g in mine)


def test_a_single_small_cell_takes_a_partner_not_the_total():
    grants = [GrantFact("a", 1, Decimal(100))] * 5 + [GrantFact("a", 3, Decimal(999))]
    (table,) = build_tables(grants, MIN)
    (row,) = table.programs
    assert row.quarters[2].hidden == SMALL
    assert row.quarters[0].hidden == COMPLEMENT
    assert row.year.grants == 6 and not row.year.is_hidden


def test_a_fund_page_cannot_be_subtracted_from_the_foundation_page():
    grants = [GrantFact("a", 1, Decimal(100), fund="big")] * 5 + [
        GrantFact("a", 1, Decimal(999), fund="small")
    ]
    (table,) = build_tables(grants, MIN)
    assert table.funds["small"].quarters[0].hidden == SMALL
    # The program's Q1 (6 grants) minus the big fund's Q1 would give the small fund's figure.
    assert table.programs[0].quarters[0].is_hidden or table.funds["big"].quarters[0].is_hidden


def test_currencies_are_never_added():
    grants = [GrantFact("a", 1, Decimal(100), currency="USD")] * 3 + [
        GrantFact("a", 1, Decimal(5), currency="MXN")
    ] * 3
    tables = {t.currency: t for t in build_tables(grants, MIN)}
    assert tables["USD"].total.year.granted == usd(300)
    assert str(tables["MXN"].total.year.granted.currency) == "MXN"


def test_metrics_of_one_fund_cannot_be_subtracted_from_the_total():
    values = [("big", "k", Decimal(1))] * 4 + [("small", "k", Decimal(50))]
    total, by_fund = build_metrics(values, {}, MIN)
    assert by_fund["small"][0].hidden == SMALL
    assert total[0].hidden or by_fund["big"][0].hidden


@pytest.mark.parametrize("year", ["9" * 5000, "²⁰²⁶", "２０２６", "20260"])
def test_a_year_that_is_not_four_plain_digits_is_404(client, year):
    from tests.factories import FoundationFactory

    foundation = FoundationFactory()
    response = client.get(f"/en/transparency/{foundation.slug}/", {"year": year})
    assert response.status_code == 404
