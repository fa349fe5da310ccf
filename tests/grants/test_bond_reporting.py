"""What bond funds report: Fund money's figures and revolving panel, the public revolving figures
with small groups suppressed, the audit workbook's Bonds sheet, the retention rule on bond
references and run_daily's reminders. The year of ``tests/grants/bond_year.py`` throughout.
"""

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from grants.models import ActivityEntry, Bond, BondStatus, Foundation, RetentionRun, Role
from grants.services import bond_reporting, bonds, exports, retention
from tests import pages
from tests.factories import FoundationFactory
from tests.grants.bond_year import END, START, bond_fund, bond_year, posted, usd
from tests.grants.money_fixtures import staff

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def year(world):
    return bond_year(world)


def figures_on(html: str, attribute: str) -> dict[str, str]:
    """Staff figures (``data-revolving`` on the ``dd``) or public ones (``data-bonds`` on a row)."""
    if attribute == "bonds":
        found = re.findall(r'data-bonds="(\w+)"><dt>.*?</dt><dd>(.*?)</dd>', html, flags=re.S)
    else:
        found = re.findall(rf'data-{attribute}="(\w+)">(.*?)</dd>', html, flags=re.S)
    return {key: re.sub(r"<[^>]+>", "", text).strip() for key, text in found}


# --- Fund money ---------------------------------------------------------------------------------


def test_fund_money_shows_bonds_out_expected_back_interest_and_the_revolving_panel(world, client, year):
    fund = year["fund"]
    client.force_login(world["auditor"])
    html = client.get(reverse("fund_money:detail", args=[fund.pk])).content.decode()
    money = dict(re.findall(r'data-figure="(\w+)">([^<]+)<', html))
    # A and B returned, C lost, D partly returned, E cancelled with its refund on the way.
    assert money["bonds_out"] == "$1,500.00"
    assert money["expected_back"] == "$1,500.00"
    assert money["bond_interest"] == "$25.50"
    assert money["received"] == "$30,025.50"
    assert money["available"] == money["cash"] == "$23,525.50"  # received - out - lost
    revolving = figures_on(html, "revolving")
    assert revolving["posted"] == "5 · $15,500.00"
    assert revolving["returned"] == "3 · $9,000.00"  # A, B, D; D's $2,000 included
    assert revolving["lost"] == "2 · $5,000.00"  # all of C, the rest of D
    assert revolving["out"] == "1 · $1,500.00"
    assert revolving["days"] == "107 days"  # (232 + 71 + 50 + 76) / 4
    assert revolving["times"] == "0.52"  # 15,500 / 30,025.50

    index = client.get(reverse("fund_money:index")).content.decode()
    row = re.search(rf"{fund.name}</a>.*?</tr>", index, flags=re.S).group(0)
    cells = re.findall(r'<td class="fp-num">(?:<strong>)?([^<]+)<', row)
    assert cells[:3] == ["$23,525.50", "$1,500.00", "$1,500.00"]  # available, out on bonds, expected back


def test_a_fund_without_bonds_shows_zeros_and_no_revolving_panel(world, client):
    client.force_login(world["finance"])
    html = client.get(reverse("fund_money:detail", args=[world["fund"].pk])).content.decode()
    money = dict(re.findall(r'data-figure="(\w+)">([^<]+)<', html))
    assert (money["bonds_out"], money["expected_back"], money["bond_interest"]) == ("$0.00",) * 3
    assert "data-revolving" not in html and "Revolving capacity" not in html


def test_another_foundations_staff_never_see_the_bond_fund(world, client, year):
    other = FoundationFactory(slug="valley")
    client.force_login(staff(other, Role.FINANCE_OFFICER, email="valley@example.org"))
    assert client.get(reverse("fund_money:detail", args=[year["fund"].pk])).status_code == 404
    assert year["fund"].name not in client.get(reverse("fund_money:index")).content.decode()


def test_expected_back_counts_only_bonds_whose_case_ended(world):
    fund = bond_fund(world)
    out = posted(world, fund, 2000, D(2026, 3, 1), "R-1")
    cancelled = posted(world, fund, 700, D(2026, 3, 2), "R-2")
    assert bond_reporting.expected_back(fund) == usd(0)
    bonds.record_cancellation(cancelled, by=world["finance"], cancelled_on=D(2026, 4, 1))
    assert bond_reporting.expected_back(fund) == usd(700)
    bonds.record_refund(
        cancelled, by=world["finance"], received_on=D(2026, 4, 20), principal=usd(300), receipt="C1"
    )
    assert bond_reporting.expected_back_for_funds([fund, world["fund"]]) == {
        fund.pk: usd(400),
        world["fund"].pk: usd(0),
    }
    assert out.status == BondStatus.POSTED


# --- Public pages -------------------------------------------------------------------------------


def public_pages(client, site, fund) -> list[str]:
    cache.clear()
    fund_page, _es = pages.add_fund_page(site, fund)
    transparency = reverse(
        "transparency_fund", kwargs={"foundation_slug": fund.foundation.slug, "fund_slug": fund.slug}
    )
    return [client.get(fund_page.url).content.decode(), client.get(transparency).content.decode()]


def test_one_bond_is_fewer_than_the_minimum_and_its_amount_is_hidden(world, client, site, settings):
    settings.TRANSPARENCY_MIN_GROUP = 3
    fund = bond_fund(world)
    posted(world, fund, 7345, D(2026, 3, 1), "R-1")
    for html in public_pages(client, site, fund):
        shown = figures_on(html, "bonds")
        assert shown["posted"] == shown["out"] == "Fewer than 3 bonds"
        assert shown["returned"] == shown["lost"] == "0 bonds · $0.00"
        assert "7,345" not in html
        assert shown["times"] == "Not shown"  # it would give the posted amount from the fund's income
        assert "Shown once 3 bonds have ended" in shown["days"]
        assert (
            "“Times lent” is all the money lent on bonds divided by all the money the fund received" in html
        )


def test_groups_at_the_minimum_are_shown_and_small_ones_protected_from_subtraction(
    world, client, site, settings, year
):
    settings.TRANSPARENCY_MIN_GROUP = 3
    for html in public_pages(client, site, year["fund"]):
        shown = figures_on(html, "bonds")
        assert shown["posted"] == "5 bonds · $15,500.00"
        assert shown["returned"] == "3 bonds · $9,000.00"
        # Lost (C, D) and out (E) are small: neither amount shows, and posted - returned gives
        # only their sum.
        assert shown["lost"] == shown["out"] == "Fewer than 3 bonds"
        assert "$5,000.00" not in html and "$1,500.00" not in html
        assert shown["days"] == "107 days" and shown["times"] == "0.52"


def test_one_small_group_hides_a_second_amount(world, client, site, settings):
    """Four bonds returned, one out: the out amount would be posted − returned, so the smaller
    visible group's amount goes too."""
    settings.TRANSPARENCY_MIN_GROUP = 3
    fund = bond_fund(world)
    for n in range(4):
        bond = posted(world, fund, 1000 + n, D(2026, 2, 1 + n), f"R-{n}")
        bonds.record_refund(bond, by=world["finance"], received_on=D(2026, 5, 1), principal=usd(1000 + n),
                            receipt=f"T-{n}")  # fmt: skip
    posted(world, fund, 2222, D(2026, 3, 1), "R-9")
    figures = bond_reporting.public_revolving(fund)
    assert figures.out.is_small and figures.out.total is None
    assert [f.total is None for f in (figures.posted, figures.returned)].count(True) == 1
    for html in public_pages(client, site, fund):
        assert "2,222" not in html


def test_a_fund_that_posts_no_bonds_shows_no_bond_figures(world, client, site):
    for html in public_pages(client, site, world["fund"]):
        assert "data-bonds" not in html
    page = reverse("transparency_foundation", kwargs={"foundation_slug": world["foundation"].slug})
    assert "How the bond money revolves" not in client.get(page).content.decode()


def test_the_foundation_transparency_page_links_to_its_bond_funds(world, client, year):
    cache.clear()
    page = reverse("transparency_foundation", kwargs={"foundation_slug": world["foundation"].slug})
    html = client.get(page).content.decode()
    fund_page = reverse(
        "transparency_fund",
        kwargs={"foundation_slug": world["foundation"].slug, "fund_slug": year["fund"].slug},
    )
    assert "How the bond money revolves" in html and f'href="{fund_page}"' in html


# --- Audit workbook -----------------------------------------------------------------------------


def workbook(world, date_from, date_to):
    job = exports.request_export(foundation=world["foundation"], by=world["auditor"], date_from=date_from,
                                 date_to=date_to, format="xlsx", language="en")  # fmt: skip
    with job.file.open("rb") as handle:
        return openpyxl.load_workbook(io.BytesIO(handle.read()))


def rows_of(book, title):
    sheet = book[title]
    header = [c.value for c in sheet[1]]
    return header, [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]


def test_the_bonds_sheet_lists_each_bond_with_the_periods_money_and_never_private_text(world, year):
    book = workbook(world, START, END)
    header, rows = rows_of(book, "Bonds")
    by_code = {row["Bond"]: row for row in rows if str(row["Bond"] or "").startswith("B-")}
    b = year["bonds"]
    assert set(by_code) == {b[x].reference_code for x in "ABCDEF"}

    def money(row, column):
        return Decimal(str(row[column] or 0)).quantize(Decimal("0.01"))

    a, ret, c, d, e, f = (by_code[b[x].reference_code] for x in "ABCDEF")
    assert (money(a, "Posted in period"), money(a, "Out at end"), a["Journal entries"] or "") == (0, 5000, "")
    assert (money(ret, "Returned in period"), money(ret, "Interest in period"), money(ret, "Out at end")) == (
        2000, Decimal("15.50"), 0)  # fmt: skip
    assert (money(c, "Posted in period"), money(c, "Written off in period"), c["Status"]) == (
        4000, 4000, "Breached, loss written off")  # fmt: skip
    assert [money(d, k) for k in ("Posted in period", "Returned in period", "Interest in period",
                                  "Written off in period", "Out at end")] == [3000, 2000, 10, 1000, 0]  # fmt: skip
    assert (money(e, "Out at end"), e["Status"], e["Cancelled on"].date()) == (
        1500,
        "Cancelled, refund expected",
        D(2026, 5, 1),
    )
    assert (money(f, "Bond amount"), f["Posted on"], f["Status"]) == (1000, None, "Requested")
    assert (
        ret["Partner organization"] == "Comité de Defensa"
        and ret["Obligor"] == "The foundation posts the bond"
    )
    assert ret["Settled on"].date() == D(2026, 2, 10)
    entries = [int(pk) for pk in d["Journal entries"].split(", ")]
    assert len(entries) == 3  # posted, refund, write-off
    # Tie out with the journal: the entries listed are the bond's, and their lines are the figures.
    journal = rows_of(book, "Journal")[1]
    for column, cause in (
        ("Posted in period", "Bond posted"),
        ("Written off in period", "Bond loss written off as a grant"),
    ):
        total = sum(money(r, column) for r in by_code.values())
        lines = [r for r in journal if r["Cause"] == cause and r["Account"] == "Bonds outstanding"]
        assert total == sum(money(r, "Debit") + money(r, "Credit") for r in lines) > 0
    summary = {row["Fund"]: row for row in rows_of(book, "Summary")[1]}[year["fund"].name]
    assert (
        money(summary, "Out on bonds at end") == sum(money(r, "Out at end") for r in by_code.values()) == 6500
    )
    assert money(summary, "Bond interest") == Decimal("25.50")
    # Privacy: no reference, label, facility or notes anywhere in the sheet.
    words = " ".join(str(v) for row in rows for v in row.values() if v is not None) + " ".join(
        map(str, header)
    )
    for private in ("EROBOND", "Caso", "Adelanto", "Hearing in March", "Familia"):
        assert private not in words


def test_a_bond_settled_before_the_period_is_not_listed(world, year):
    book = workbook(world, D(2026, 8, 1), D(2026, 12, 31))
    codes = {row["Bond"] for row in rows_of(book, "Bonds")[1]}
    assert year["bonds"]["E"].reference_code in codes  # still out
    assert year["bonds"]["B"].reference_code not in codes and year["bonds"]["C"].reference_code not in codes


# --- Retention --------------------------------------------------------------------------------


def test_retention_erases_a_settled_bonds_reference_after_the_period_and_not_before(world, year):
    foundation = world["foundation"]
    Foundation.objects.filter(pk=foundation.pk).update(purge_bond_references_after_days=90)
    foundation.refresh_from_db()
    returned = year["bonds"]["B"]  # settled 2026-02-10
    # 89 days after: nothing due, in a preview or a real run.
    early = D(2026, 5, 10)
    assert retention.purge(foundation, today=early, dry_run=True).bond_references == 0
    assert retention.purge(foundation, today=early, dry_run=False).bond_references == 0
    assert Bond.objects.get(pk=returned.pk).reference == "EROBOND-B-2222"
    # 90 days after: the preview counts it and changes nothing; the run erases it, once.
    due = D(2026, 5, 11)
    assert retention.purge(foundation, today=due, dry_run=True).bond_references == 1
    assert Bond.objects.get(pk=returned.pk).reference == "EROBOND-B-2222"
    result = retention.purge(foundation, today=due, dry_run=False)
    assert result.bond_references == 1
    bond = Bond.objects.get(pk=returned.pk)
    assert bond.reference == "" and bond.reference_purged_at is not None
    assert retention.purge(foundation, today=due, dry_run=False).bond_references == 0
    run = RetentionRun.objects.filter(foundation=foundation, dry_run=False).order_by("pk")[1]
    assert run.counts["bond_references"] == 1
    # Bonds still out, or settled more recently, keep theirs.
    assert Bond.objects.get(pk=year["bonds"]["E"].pk).reference == "EROBOND-E-5555"
    assert Bond.objects.get(pk=year["bonds"]["D"].pk).reference == "EROBOND-D-4444"  # settled 2026-04-01
    assert (
        ActivityEntry.objects.filter(
            subject_type="bond", subject_id=returned.pk, action="purge_reference"
        ).count()
        == 1
    )


def test_retention_of_one_foundation_leaves_anothers_bonds_alone(world, year):
    other = FoundationFactory(slug="valley")
    assert retention.purge(other, today=D(2027, 6, 1), dry_run=False).bond_references == 0
    assert Bond.objects.get(pk=year["bonds"]["B"].pk).reference == "EROBOND-B-2222"


def test_the_privacy_page_states_the_bond_rule_and_the_preview_counts_references(world, client, year):
    admin = staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org")
    client.force_login(admin)
    html = client.get(reverse("privacy:index")).content.decode()
    assert (
        "The government’s reference of a bond returned or written off more than 90 days ago is erased"
        in html.replace("&#x27;", "’").replace("'", "’")
    )
    preview = client.post(reverse("privacy:preview"), {"foundation": world["foundation"].pk}).content.decode()
    assert re.search(r"Bond references: [1-9]", preview)
    assert Bond.objects.get(pk=year["bonds"]["B"].pk).reference == "EROBOND-B-2222"


# --- run_daily --------------------------------------------------------------------------------


def test_run_daily_reminds_finance_of_bonds_out_too_long_once_per_period(
    world, capsys, django_capture_on_commit_callbacks
):
    foundation = world["foundation"]
    Foundation.objects.filter(pk=foundation.pk).update(check_bonds_after_days=30)
    fund = bond_fund(world)
    with time_machine.travel(datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)):
        old = posted(world, fund, 2500, D(2026, 4, 1), "R-OLD")
        posted(world, fund, 900, D(2026, 5, 20), "R-NEW")
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("run_daily")
        assert "1 bonds to check on named in reminders" in capsys.readouterr().out
        to = sorted(address for message in mail.outbox if message.subject and old.reference_code in message.body
                    for address in message.to)  # fmt: skip
        assert to == ["finance2@example.org", "finance@example.org"]
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("run_daily")  # the same day again: nothing new
        assert "0 bonds to check on" in capsys.readouterr().out
        assert not [m for m in mail.outbox if old.reference_code in m.body]
    with time_machine.travel(datetime.datetime(2026, 7, 2, 12, tzinfo=datetime.UTC)):  # a period later
        call_command("run_daily")
        assert "2 bonds to check on" in capsys.readouterr().out


def test_run_daily_enqueue_queues_the_bond_reminders(db, capsys):
    call_command("run_daily", "--enqueue")
    assert "send_bond_check_reminders_task" in capsys.readouterr().out
