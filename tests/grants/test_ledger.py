"""The ledger, as an accountant would check it: worked examples, refused entries, balances."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.models import AccountKind, AppendOnlyError, EntryCause, JournalEntry, JournalLine
from grants.money import MoneyTypeError
from grants.services import awards, ledger
from grants.services.errors import DomainError
from tests.factories import FundFactory
from tests.grants.money_fixtures import award_for, fund_with, usd

pytestmark = pytest.mark.django_db


def _summary(fund):
    b = ledger.balances(fund)
    return {
        "received": b.received,
        "committed": b.committed,
        "paid": b.paid,
        "outstanding": b.outstanding,
        "available": b.available,
        "cash": b.cash,
    }


def test_worked_example_receive_commit_amend_cancel(world):
    """A fund receives $10,000 by check; commits $4,000 and $3,000; raises the second to $3,500;
    cancels the first. At each step the books say what the accountant expects."""
    fund = world["fund"]
    fund_with(world, "10000")
    assert _summary(fund) == {"received": usd(10000), "committed": usd(0), "paid": usd(0),
                              "outstanding": usd(0), "available": usd(10000), "cash": usd(10000)}  # fmt: skip

    first = award_for(world, 4000)
    second = award_for(world, 3000)
    assert _summary(fund)["committed"] == usd(7000)
    assert _summary(fund)["outstanding"] == usd(7000)
    assert _summary(fund)["available"] == usd(3000)
    assert _summary(fund)["cash"] == usd(10000), "committing moves no cash"

    awards.amend_award(
        second, by=world["officer"], new_amount=usd(3500), reason="Second lawyer for bond hearings"
    )
    assert _summary(fund)["committed"] == usd(7500)
    assert _summary(fund)["available"] == usd(2500)

    awards.cancel_award(first, by=world["officer"], reason="Group dissolved")
    assert _summary(fund) == {"received": usd(10000), "committed": usd(3500), "paid": usd(0),
                              "outstanding": usd(3500), "available": usd(6500), "cash": usd(10000)}  # fmt: skip
    causes = list(JournalEntry.objects.order_by("pk").values_list("cause", flat=True))
    assert causes == [
        EntryCause.INCOME,
        EntryCause.AWARD,
        EntryCause.AWARD,
        EntryCause.AMENDMENT,
        EntryCause.RELEASE,
    ]


def test_every_entry_balances_and_names_its_cause_and_author(world):
    fund_with(world, "5000")
    award = award_for(world, 1200)
    for entry in JournalEntry.objects.all():
        assert sum(line.amount.amount for line in entry.lines.all()) == 0
        assert entry.created_by is not None
    commit = JournalEntry.objects.get(cause=EntryCause.AWARD)
    assert commit.award == award
    assert commit.created_by == world["officer"]
    assert commit.idempotency_key == f"award:{award.pk}:commit"


def _lines(fund, *amounts):
    kinds = [AccountKind.BANK_CASH, AccountKind.OTHER_INCOME, AccountKind.FEES]
    return [ledger.Line(fund, kind, amount) for kind, amount in zip(kinds, amounts, strict=False)]


def test_unbalanced_entry_is_refused_and_nothing_is_written(world):
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x",
                          lines=_lines(world["fund"], usd(100), usd(-99)))  # fmt: skip
    assert not JournalEntry.objects.exists()


def test_single_line_entry_is_refused(world):
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x",
                          lines=_lines(world["fund"], usd(100)))  # fmt: skip


def test_mixed_currency_entry_is_refused(world):
    pesos = FundFactory(foundation=world["foundation"], currency="MXN", fundraising_goal=None)
    lines = [ledger.Line(world["fund"], AccountKind.BANK_CASH, usd(100)),
             ledger.Line(pesos, AccountKind.OTHER_INCOME, Money(-100, "MXN"))]  # fmt: skip
    with pytest.raises(ledger.MixedCurrencies):
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x", lines=lines)
    # A line whose currency differs from its fund's is refused even when it balances.
    lines = [ledger.Line(world["fund"], AccountKind.BANK_CASH, Money(100, "MXN")),
             ledger.Line(world["fund"], AccountKind.OTHER_INCOME, Money(-100, "MXN"))]  # fmt: skip
    with pytest.raises(ledger.MixedCurrencies):
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x", lines=lines)
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize(
    "amount", [100.0, 0.1, Decimal("100"), 100, Money(Decimal("0.30000000000000004"), "USD")]
)
def test_amounts_that_are_not_whole_money_are_refused(world, amount):
    with pytest.raises(MoneyTypeError):
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x",
                          lines=[ledger.Line(world["fund"], AccountKind.BANK_CASH, amount),
                                 ledger.Line(world["fund"], AccountKind.OTHER_INCOME, usd(-100))])  # fmt: skip
    assert not JournalEntry.objects.exists()
    assert issubclass(MoneyTypeError, TypeError)


def test_fund_of_another_foundation_cannot_be_posted_to(world, other_foundation):
    foreign = FundFactory(foundation=other_foundation)
    with pytest.raises(ledger.LedgerError):
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x",
                          lines=[ledger.Line(foreign, AccountKind.BANK_CASH, usd(5)),
                                 ledger.Line(foreign, AccountKind.OTHER_INCOME, usd(-5))])  # fmt: skip


def test_journal_rows_cannot_be_changed_or_deleted_through_the_orm(world):
    fund_with(world, "100")
    entry = JournalEntry.objects.get()
    line = entry.lines.first()
    entry.memo = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    line.amount = usd(1)
    with pytest.raises(AppendOnlyError):
        line.save()
    with pytest.raises(AppendOnlyError):
        JournalLine.objects.filter(pk=line.pk).update(amount=Decimal("1"))
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.all().delete()
    assert JournalEntry.objects.get().memo != "rewritten"


def test_a_mistake_is_corrected_by_a_reversing_entry(world):
    fund_with(world, "250")
    wrong = JournalEntry.objects.get()
    with pytest.raises(ledger.LedgerError):
        ledger.reverse_manual_entry(wrong, by=world["finance"], reason="")
    reversal = ledger.reverse_manual_entry(wrong, by=world["finance"], reason="Check bounced")
    assert reversal.reverses == wrong
    assert ledger.balances(world["fund"]).received == usd(0)
    with pytest.raises(ledger.LedgerError):
        ledger.reverse_manual_entry(wrong, by=world["finance"], reason="again")
    # Award entries are corrected through the award, not by hand.
    award_entry_fund = world["fund"]
    fund_with(world, "1000")
    award_for(world, 500)
    with pytest.raises(ledger.LedgerError):
        ledger.reverse_manual_entry(
            JournalEntry.objects.get(cause=EntryCause.AWARD), by=world["finance"], reason="x"
        )
    assert ledger.balances(award_entry_fund).committed == usd(500)


def test_posting_with_the_same_key_twice_posts_once(world):
    lines = _lines(world["fund"], usd(10), usd(-10))
    first = ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x", lines=lines,
                              idempotency_key="test:1")  # fmt: skip
    again = ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x", lines=lines,
                              idempotency_key="test:1")  # fmt: skip
    assert first.pk == again.pk
    assert JournalEntry.objects.count() == 1


def test_only_finance_staff_of_the_foundation_record_income(world, other_foundation):
    from tests.grants.money_fixtures import staff

    outsider = staff(other_foundation, "finance_officer")
    for person in (world["officer"], world["auditor"], world["grantee"], outsider):
        with pytest.raises(DomainError):
            ledger.record_income(fund=world["fund"], amount=usd(5), source="check",
                                 received_on=datetime.date(2026, 1, 1), reference="1", by=person)  # fmt: skip
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "source", "reference"),
    [(usd(0), "check", "1"), (usd(-5), "check", "1"), (Money(5, "MXN"), "check", "1"), (usd(5), "check", " "),
     (usd(5), "barter", "1")],
)  # fmt: skip
def test_bad_income_is_refused_with_a_message(world, amount, source, reference):
    with pytest.raises(DomainError) as error:
        ledger.record_income(fund=world["fund"], amount=amount, source=source,
                             received_on=datetime.date(2026, 1, 1), reference=reference, by=world["finance"])  # fmt: skip
    assert str(error.value.message)
    assert not JournalEntry.objects.exists()


def test_opening_balance_once_per_fund_until_reversed(world):
    args = {"fund": world["fund"], "amount": usd(20000), "as_of": datetime.date(2026, 1, 1),
            "reference": "Bank statement Dec 2025", "by": world["finance"]}  # fmt: skip
    entry = ledger.record_opening_balance(**args)
    assert ledger.balances(world["fund"]).received == usd(20000)
    with pytest.raises(ledger.LedgerError):
        ledger.record_opening_balance(**args)
    ledger.reverse_manual_entry(entry, by=world["finance"], reason="Wrong month")
    ledger.record_opening_balance(**{**args, "amount": usd(18000)})
    assert ledger.balances(world["fund"]).received == usd(18000)


def test_balances_for_many_funds_in_one_query(world, django_assert_num_queries):
    second = FundFactory(foundation=world["foundation"])
    fund_with(world, "300")
    funds = [world["fund"], second]
    with django_assert_num_queries(1):
        result = ledger.balances_for_funds(funds)
    assert result[world["fund"].pk].received == usd(300)
    assert result[second.pk].received == usd(0)


# --- Property: balances are the sum of the lines, whatever happens ----------------------------

operation = st.one_of(
    st.tuples(st.just("income"), st.integers(min_value=1, max_value=500_000)),
    st.tuples(st.just("award"), st.integers(min_value=1, max_value=300_000)),
    st.tuples(st.just("amend"), st.integers(min_value=1, max_value=300_000)),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=10)),
    st.tuples(st.just("reverse_income"), st.integers(min_value=0, max_value=10)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=8))
def test_balances_equal_the_sum_of_journal_lines_after_any_operations(world, operations):
    """Whatever sequence of income, awards, amendments, cancellations and reversals happens (refused
    ones included), every balance equals the sum of its account's lines and nothing is overcommitted."""
    from django.db import transaction

    fund = world["fund"]
    with transaction.atomic():
        made = []
        for kind, value in operations:
            cents = Money(Decimal(value) / 100, "USD")
            try:
                if kind == "income":
                    fund_with(world, cents.amount)
                elif kind == "award":
                    made.append(award_for(world, cents.amount))
                elif kind == "amend" and made:
                    awards.amend_award(made[-1], by=world["officer"], new_amount=cents, reason="change")
                elif kind == "cancel" and made:
                    awards.cancel_award(made[value % len(made)], by=world["officer"], reason="stop")
                elif kind == "reverse_income":
                    incomes = list(
                        JournalEntry.objects.filter(cause=EntryCause.INCOME, reversed_by__isnull=True)
                    )
                    if incomes:
                        ledger.reverse_manual_entry(
                            incomes[value % len(incomes)], by=world["finance"], reason="r"
                        )
            except DomainError:
                pass
        b = ledger.balances(fund)
        for kind in AccountKind.values:
            raw = sum((line.amount.amount for line in JournalLine.objects.filter(account__fund=fund, account__kind=kind)),
                      Decimal(0))  # fmt: skip
            sign = 1 if kind in ("processor_cash", "bank_cash", "fees", "refunds", "grants_awarded") else -1
            assert b.by_account.get(kind, usd(0)) == Money(raw * sign, "USD"), kind
        total = sum(
            (line.amount.amount for line in JournalLine.objects.filter(account__fund=fund)), Decimal(0)
        )
        assert total == 0
        live = sum((a.amount for a in fund.awards.exclude(status="cancelled")), usd(0))
        assert b.committed == live
        transaction.set_rollback(True)
