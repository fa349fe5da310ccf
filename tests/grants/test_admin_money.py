"""Fund money in admin: figures per fund, the journal, and finance staff's hand-recorded entries."""

import pytest
from django.urls import reverse

from grants.models import EntryCause, JournalEntry, Role
from grants.services import ledger
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db

INDEX = "/admin/fund-money/"


def fund_url(fund):
    return reverse("fund_money:detail", args=[fund.pk])


def action_url(fund, name):
    return reverse("fund_money:action", args=[fund.pk, name])


def reverse_url(fund, entry):
    return reverse("fund_money:reverse", args=[fund.pk, entry.pk])


def refused(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


def income(**overrides):
    data = {
        "income-amount": "2500.00",
        "income-currency": "USD",
        "income-source": "check",
        "income-received_on": "2026-03-02",
        "income-reference": "CHK-4410",
        "income-note": "Parish collection",
    }
    data.update({f"income-{key}": value for key, value in overrides.items()})
    return data


def opening(**overrides):
    data = {
        "opening-amount": "12000",
        "opening-currency": "USD",
        "opening-as_of": "2026-01-01",
        "opening-reference": "Statement Dec 2025",
    }
    data.update({f"opening-{key}": value for key, value in overrides.items()})
    return data


@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_foundation_staff_see_the_figures(world, client, role):
    fund_with(world, 10000)
    award_for(world, 4000)
    client.force_login(world[role])
    index = client.get(INDEX)
    html = index.content.decode()
    assert index.status_code == 200
    assert world["fund"].name in html and "$10,000.00" in html and "$6,000.00" in html
    page = client.get(fund_url(world["fund"])).content.decode()
    assert "$4,000.00" in page and "CHK-10000" in page and "Award committed" in page


def test_menu_item_is_shown_to_staff_with_a_money_role(world, client):
    client.force_login(world["auditor"])
    assert INDEX in client.get("/admin/").content.decode()
    reviewer = staff(world["foundation"], Role.REVIEWER)
    client.force_login(reviewer)
    assert INDEX not in client.get("/admin/").content.decode()


def test_only_finance_sees_the_forms(world, client):
    fund_with(world, 1000)
    client.force_login(world["finance"])
    html = client.get(fund_url(world["fund"])).content.decode()
    assert 'name="income-amount"' in html and 'name="opening-amount"' in html and "Reverse this entry" in html
    for role in ("officer", "auditor"):
        client.force_login(world[role])
        html = client.get(fund_url(world["fund"])).content.decode()
        assert 'name="income-amount"' not in html and "Reverse this entry" not in html
        assert refused(client.post(action_url(world["fund"], "income"), income()))
    assert JournalEntry.objects.filter(cause=EntryCause.INCOME).count() == 1


def test_finance_records_money_received_outside_stripe(world, client):
    client.force_login(world["finance"])
    response = client.post(action_url(world["fund"], "income"), income())
    assert response.status_code == 302
    entry = JournalEntry.objects.get(cause=EntryCause.INCOME)
    assert entry.reference == "CHK-4410" and entry.memo == "Parish collection"
    assert ledger.balances(world["fund"]).available == usd(2500)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "0"}, "The amount must be greater than zero."),
        ({"currency": "EUR"}, "The amount must be in the fund&#x27;s currency (USD)."),
        ({"reference": ""}, "Give a reference (check number, bank reference…)."),
        ({"amount": "10.5555"}, "Enter at most 2 decimals."),
    ],
)
def test_bad_income_keeps_what_was_typed(world, client, overrides, message):
    client.force_login(world["finance"])
    response = client.post(action_url(world["fund"], "income"), income(**overrides))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Parish collection" in html and 'value="2026-03-02"' in html
    assert not JournalEntry.objects.exists()


def test_opening_balance_once_then_reverse_to_redo(world, client):
    client.force_login(world["finance"])
    fund = world["fund"]
    assert client.post(action_url(fund, "opening"), opening()).status_code == 302
    again = client.post(action_url(fund, "opening"), opening(amount="13000"))
    assert again.status_code == 400
    assert (
        "already has an opening balance" in again.content.decode()
        and 'value="13000"' in again.content.decode()
    )
    entry = JournalEntry.objects.get(cause=EntryCause.OPENING_BALANCE)
    no_reason = client.post(reverse_url(fund, entry), {f"reverse-{entry.pk}-reason": ""})
    assert no_reason.status_code == 400
    done = client.post(reverse_url(fund, entry), {f"reverse-{entry.pk}-reason": "Wrong statement month"})
    assert done.status_code == 302
    assert ledger.balances(fund).available == usd(0)
    assert client.post(action_url(fund, "opening"), opening(amount="13000")).status_code == 302
    assert ledger.balances(fund).available == usd(13000)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "0"}, "greater than zero"),
        ({"currency": "MXN"}, "currency (USD)"),
        ({"as_of": ""}, "required"),
    ],
)
def test_bad_opening_balance_keeps_what_was_typed(world, client, overrides, message):
    client.force_login(world["finance"])
    response = client.post(action_url(world["fund"], "opening"), opening(**overrides))
    html = response.content.decode()
    assert response.status_code == 400 and message in html and "Statement Dec 2025" in html
    assert not JournalEntry.objects.exists()


def test_award_entries_cannot_be_reversed_here(world, client):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    entry = JournalEntry.objects.get(award=award)
    client.force_login(world["finance"])
    response = client.post(reverse_url(world["fund"], entry), {f"reverse-{entry.pk}-reason": "oops"})
    assert response.status_code == 400
    assert "corrected through its award" in response.content.decode()


def test_another_foundations_fund_is_404_everywhere(world, client):
    fund_with(world, 1000)
    entry = JournalEntry.objects.get()
    other = FoundationFactory(slug="elsewhere")
    FundFactory(foundation=other)
    urls = [fund_url(world["fund"]), action_url(world["fund"], "income"), action_url(world["fund"], "opening"),
            reverse_url(world["fund"], entry)]  # fmt: skip
    for role in (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER, Role.FINANCE_OFFICER, Role.AUDITOR):
        client.force_login(staff(other, role))
        assert world["fund"].name not in client.get(INDEX).content.decode()
        for url in urls:
            assert client.get(url, follow=True).status_code in (404, 405), url
            assert client.post(url, income(), follow=True).status_code == 404, url
    assert JournalEntry.objects.count() == 1


def test_entry_of_another_fund_cannot_be_reversed_through_this_one(world, client):
    other_fund = FundFactory(foundation=world["foundation"], currency="USD")
    entry = ledger.record_income(fund=other_fund, amount=usd(50), source="check", received_on="2026-01-02",
                                 reference="X-1", by=world["finance"])  # fmt: skip
    client.force_login(world["finance"])
    response = client.post(
        reverse_url(world["fund"], entry), {f"reverse-{entry.pk}-reason": "x"}, follow=True
    )
    assert response.status_code == 404
    assert not JournalEntry.objects.filter(reverses=entry).exists()


def test_journal_is_paginated_by_fifty_newest_first(world, client):
    for number in range(51):
        ledger.record_income(fund=world["fund"], amount=usd(1), source="check", received_on="2026-01-02",
                             reference=f"REF-{number:03d}", by=world["finance"])  # fmt: skip
    client.force_login(world["auditor"])
    first = client.get(fund_url(world["fund"])).content.decode()
    assert "REF-050" in first and "REF-000" not in first and "?p=2" in first
    assert "REF-000" in client.get(fund_url(world["fund"]) + "?p=2").content.decode()


def test_index_queries_do_not_grow_with_funds(world, client, django_assert_max_num_queries):
    fund_with(world, 100)
    client.force_login(world["officer"])
    client.get(INDEX)
    with django_assert_max_num_queries(30) as one:
        client.get(INDEX)
    for _ in range(9):
        fund = FundFactory(foundation=world["foundation"], currency="USD")
        ledger.record_income(fund=fund, amount=usd(10), source="check", received_on="2026-01-02",
                             reference="R", by=world["finance"])  # fmt: skip
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(INDEX).status_code == 200
