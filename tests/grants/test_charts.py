"""Charts: their figures are the tables' figures, hidden cells stay hidden, nothing comes from
the internet, every word follows the reader's language, and another foundation sees nothing."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from grants.charts import Chart, Series
from grants.models import PayeeAccount, Role
from grants.payments.simulator.gateway import SimulatedGateway
from grants.permissions import donations_visible_to
from grants.services import awards, charts, installments, ledger, offline_gifts, payments, transparency
from tests import pages
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, approved_application
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date
MIN = 3
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
LONELY = re.compile(r"(?<![\d.,])7[,.]?777(?![\d])")  # the one grant of its quarter


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.TRANSPARENCY_MIN_GROUP = MIN
    cache.clear()
    yield
    cache.clear()


def gift(world, amount, on, fund=None):
    return offline_gifts.record_offline_gift(
        fund=fund or world["fund"],
        donor_name="Dana Donor",
        donor_email=f"dana{amount}@example.org",
        amount=usd(amount),
        channel="cash",
        received_on=on,
        by=world["finance"],
        send_receipt=False,
    )


def grant(world, amount, *, offered, name):
    application = approved_application(
        world["fund"],
        decided_by=world["officer"],
        amount=usd(amount),
        organization=OrganizationFactory(name=name),
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
    type(award).objects.filter(pk=award.pk).update(offered_at=offered)
    return award


def at(month, day=15, year=2026):
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


def scripted_mix(world, django_capture_on_commit_callbacks):
    """$20,000 by check in January, gifts in March and May, two awards (one paid), one cancelled."""
    fund_with(world, 20000)  # 2026-01-05
    gift(world, 500, D(2026, 3, 1))
    gift(world, 250, D(2026, 5, 20))
    paid_award = award_for(world, 1000)
    other = award_for(world, 3000)
    cancelled = award_for(world, 700)
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
    return other


def svg_of(html: str) -> list[str]:
    return re.findall(r"<svg[^>]*role=\"img\".*?</svg>", html, re.S)


def figures(html: str) -> dict[str, str]:
    """The Fund money table's figures by name (``data-figure``)."""
    return dict(re.findall(r'data-figure="(\w+)">([^<]+)<', html))


def chart_table_rows(html: str) -> list[list[str]]:
    body = html[html.index('class="fp-chart__table"') :]
    body = body[body.index("<tbody>") : body.index("</table>")]
    return [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


# --- A fund's money through the year ties out with the Fund money table ---------------------------


def test_the_money_chart_is_the_ledger_month_by_month(world, django_capture_on_commit_callbacks):
    scripted_mix(world, django_capture_on_commit_callbacks)
    today = timezone.localdate()
    chart = charts.fund_money_chart(world["fund"], today=today)
    received, committed, paid, available = (series.values for series in chart.series)
    table = ledger.balances(world["fund"])
    assert received[-1] == table.received.amount
    assert committed[-1] == table.committed.amount == Decimal(4000)
    assert paid[-1] == table.paid.amount == Decimal(1000)
    assert available[-1] == table.available.amount
    # Month by month: each figure counts every line dated up to that month's end.
    months = charts.last_months(today)
    for index, month in enumerate(months):
        nxt = D(month.year + month.month // 12, month.month % 12 + 1, 1)
        expected = Decimal(0)
        if nxt > D(2026, 1, 5):
            expected += 20000
        if nxt > D(2026, 3, 1):
            expected += 500
        if nxt > D(2026, 5, 20):
            expected += 250
        assert received[index] == expected, month


def test_the_admin_chart_shows_the_tables_figures(world, client, django_capture_on_commit_callbacks):
    scripted_mix(world, django_capture_on_commit_callbacks)
    client.force_login(world["auditor"])
    html = client.get(reverse("fund_money:detail", args=[world["fund"].pk])).content.decode()
    table = figures(html)
    last = chart_table_rows(html)[-1]
    assert last[1:] == [table["received"], table["committed"], table["paid"], table["available"]]
    assert last[1:] == ["$20,750.00", "$4,000.00", "$1,000.00", "$16,750.00"]
    (svg,) = svg_of(html)
    assert "Money through the year" in svg and "<desc" in svg


def test_an_entry_dated_after_this_month_still_ties_out(world):
    fund_with(world, 1000)
    ledger.record_income(fund=world["fund"], amount=usd(300), source="check", received_on=D(2027, 4, 1),
                         reference="LATE-1", by=world["finance"])  # fmt: skip
    chart = charts.fund_money_chart(world["fund"], today=D(2026, 12, 6))
    assert chart.series[0].values[-1] == ledger.balances(world["fund"]).received.amount == Decimal(1300)


def test_a_fund_with_no_money_says_so_instead_of_drawing(world, client):
    client.force_login(world["finance"])
    html = client.get(reverse("fund_money:detail", args=[world["fund"].pk])).content.decode()
    assert "No money has moved in this fund yet." in html
    assert not svg_of(html)


# --- Another foundation's staff ------------------------------------------------------------------


def test_another_foundations_staff_get_404_and_see_no_chart(world, client):
    fund_with(world, 4321)
    gift(world, 987, D(2026, 11, 2))
    other = FoundationFactory(slug="elsewhere")
    FundFactory(foundation=other, name="Elsewhere Fund", currency="USD")
    for role in (Role.FINANCE_OFFICER, Role.AUDITOR, Role.FOUNDATION_ADMIN):
        stranger = staff(other, role)
        client.force_login(stranger)
        assert client.get(reverse("fund_money:detail", args=[world["fund"].pk])).status_code == 404
        donations = client.get(reverse("donations_admin:index"))
        html = donations.content.decode()
        assert "987" not in html and "4,321" not in html


# --- Donations over time ---------------------------------------------------------------------------


def test_the_donations_chart_adds_up_the_listed_gifts(world, client):
    gift(world, 500, D(2026, 3, 1))
    gift(world, 250, D(2026, 3, 20))
    gift(world, 120, D(2026, 11, 2))
    other_fund = FundFactory(foundation=world["foundation"], name="Hotline Fund", currency="USD")
    gift(world, 75, D(2026, 11, 3), fund=other_fund)
    client.force_login(world["finance"])
    html = client.get(reverse("donations_admin:index"), {"fund": world["fund"].pk}).content.decode()
    rows = {row[0]: row[1:] for row in chart_table_rows(html)}
    assert rows["March 2026"] == ["2", "$750.00", "$0.00"]
    assert rows["November 2026"] == ["1", "$120.00", "$0.00"]
    assert "$75.00" not in str(rows)
    assert len(rows) == 12
    # The filter's dates choose the months.
    html = client.get(
        reverse("donations_admin:index"), {"date_from": "2026-02-01", "date_to": "2026-04-30"}
    ).content.decode()
    assert [row[0] for row in chart_table_rows(html)] == ["February 2026", "March 2026", "April 2026"]


def test_a_voided_gift_is_not_counted(world):
    gift(world, 500, D(2026, 6, 1))
    voided = gift(world, 40, D(2026, 6, 2))
    offline_gifts.void_gift(voided, by=world["finance"], reason="Bounced check")
    (chart,) = charts.donations_chart(donations_visible_to(world["finance"]), today=D(2026, 12, 6))
    assert sum(chart.series[0].values) == Decimal(500)


# --- Transparency: a hidden cell stays hidden in the picture ---------------------------------------


def test_hidden_cells_are_not_drawn_and_leave_no_trace_in_the_scale(world, client):
    fund_with(world, 90000)
    for number in range(4):
        grant(world, 1000, offered=at(2), name=f"Q1 group {number}")
    for number in range(3):
        grant(world, 2000, offered=at(5), name=f"Q2 group {number}")
    grant(world, 7777, offered=at(8), name="Lonely Group")
    report = transparency.foundation_report(world["foundation"], year=2026)
    (chart,) = charts.transparency_charts(report)
    (row,) = report.rows[0][1]
    hidden = [cell for cell in row.quarters if cell.is_hidden]
    assert len(hidden) >= 2  # Q3 and the partner that protects it
    for cell, value in zip(row.quarters, chart.series[0].values, strict=True):
        assert (value is None) == cell.is_hidden
        if not cell.is_hidden:
            assert value == cell.granted.amount
    assert max(chart.ticks()) < 7777
    # The table under the chart says why each figure is hidden, as the page's own tables do.
    for quarter, cell in enumerate(row.quarters):
        said = chart.table_rows[quarter][1]
        if cell.hidden == transparency.SMALL:
            assert said == "Fewer than 3 grants"
        elif cell.is_hidden:
            assert said == "Not shown, to protect a smaller figure"
        else:
            assert said == f"${cell.granted.amount:,.2f}"
    for language in ("en", "es"):
        with translation.override(language):
            url = reverse("transparency_foundation", args=["bay-area"])
        html = client.get(url, {"year": "2026"}).content.decode()
        (svg,) = svg_of(html)
        assert not LONELY.search(html)
        assert svg.count('stroke-dasharray="3 2"') == len(hidden)
        for cell in hidden:
            assert cell.granted is None
    fund_html = client.get(
        reverse("transparency_fund", args=["bay-area", world["fund"].slug]), {"year": "2026"}
    )
    assert not LONELY.search(fund_html.content.decode())


def test_hidden_figures_never_reach_the_chart_from_the_cells():
    chart = Chart(kind="bar", title="t", description="d", unit="u", categories=["Q1", "Q2"],
                  series=[Series("a", [Decimal(100), None])], table_caption="c", table_head=[], table_rows=[])  # fmt: skip
    drawing = chart.drawing()
    assert len(drawing["bars"]) == 1 and len(drawing["placeholders"]) == 1
    assert drawing["placeholders"][0]["height"] == 14


# --- Public fund page ---------------------------------------------------------------------------


def test_the_fund_page_shows_money_received_each_month_and_no_commitments(world, client, site):
    fund_page, fund_page_es = pages.add_fund_page(site, world["fund"])
    fund_with(world, 2000)
    gift(world, 300, D(2026, 10, 4))
    award_for(world, 1500)
    cache.clear()
    html = client.get(fund_page.url).content.decode()
    (svg,) = svg_of(html)
    rows = {row[0]: row[1:] for row in chart_table_rows(html)}
    assert rows["October 2026"] == ["$300.00"]
    assert rows["January 2026"] == ["$2,000.00"]
    assert "Committed" not in svg and "$1,500.00" not in html
    chart = charts.fund_received_chart(world["fund"], today=D(2026, 12, 6))
    assert sum(chart.series[0].values) == Decimal(2300)
    html_es = client.get(fund_page_es.url).content.decode()
    rows_es = {row[0]: row[1:] for row in chart_table_rows(html_es)}
    assert "Dinero recibido cada mes" in html_es
    assert rows_es["octubre de 2026"] == ["300,00\xa0US$"]


# --- What the SVG is made of ------------------------------------------------------------------


def all_charts(world):
    fund_with(world, 5000)
    gift(world, 300, D(2026, 10, 4))
    for number in range(3):
        grant(world, 1000, offered=at(2), name=f"Group {number}")
    report = transparency.foundation_report(world["foundation"], year=2026)
    return [
        charts.fund_money_chart(world["fund"]),
        charts.fund_received_chart(world["fund"]),
        *charts.transparency_charts(report),
        *charts.donations_chart(donations_visible_to(world["finance"])),
    ]


def test_the_svg_has_no_script_no_style_and_no_url_but_its_namespace(world):
    made = all_charts(world)
    assert len(made) == 4
    for chart in made:
        html = render_to_string("charts/chart.html", {"chart": chart})
        (svg,) = svg_of(html)
        assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) == {SVG_NAMESPACE}
        assert "<script" not in html.lower() and "style=" not in svg and "<style" not in svg
        assert re.search(r"\son\w+=", svg) is None
        assert f'aria-labelledby="{chart.uid}-title {chart.uid}-desc"' in svg
        assert f'<title id="{chart.uid}-title">' in svg and f'<desc id="{chart.uid}-desc">' in svg
        assert 'viewBox="0 0 ' in svg and " width=" not in svg.split(">", 1)[0]
        assert "<table" in html and "<details" in html


def test_coordinates_stay_plain_numbers_in_spanish(world):
    chart = charts.fund_money_chart(world["fund"])
    chart.series[0].values[3] = Decimal("1234.56")
    with translation.override("es"):
        svg = svg_of(render_to_string("charts/chart.html", {"chart": chart}))[0]
    for value in re.findall(r'\s(?:x|y|x1|x2|y1|y2|width|height)="([^"]+)"', svg):
        float(value)
    assert "," not in " ".join(re.findall(r'\sy="([^"]+)"', svg))


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Money through the year", "Jan", "Received", "Available", "Amounts in USD.", "January 2026"]),
        (
            "es",
            [
                "Dinero a lo largo del año",
                "ene",
                "Recibido",
                "Disponible",
                "Importes en USD.",
                "enero de 2026",
            ],
        ),
    ],
)
def test_labels_follow_the_readers_language(world, language, words):
    fund_with(world, 12500)
    with translation.override(language):
        chart = charts.fund_money_chart(world["fund"], today=D(2026, 12, 6))
        html = render_to_string("charts/chart.html", {"chart": chart})
    for word in words:
        assert word in html, word
    if language == "es":
        assert "12.500,00" in html and "12.500" in html  # the table's money, the axis' thousands
    else:
        assert "$12,500.00" in html and "12,500" in html
