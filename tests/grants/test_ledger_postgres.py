"""The ledger's rules held by PostgreSQL itself, and commitments racing on two connections.

These tests commit for real (transactional test cases), because the balance check is a
deferred constraint trigger that fires at commit. Skipped on SQLite.
"""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from djmoney.money import Money

from grants.models import AccountKind, Award, EntryCause, JournalEntry, JournalLine
from grants.services import awards, installments, ledger
from tests import pages
from tests.concurrency import errors, race, successes
from tests.factories import FundFactory
from tests.grants.money_fixtures import approved, award_for, fund_with, usd

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = datetime.date


@pytest.fixture(autouse=True)
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


def _entry(world, currency="USD"):
    return JournalEntry.objects.create(
        foundation=world["foundation"], currency=currency, cause=EntryCause.MANUAL, memo="raw",
        effective_date=D(2026, 1, 1),
    )  # fmt: skip


def _raw_line(entry_id, account_id, amount, currency="USD"):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO grants_journalline (entry_id, account_id, amount, currency) VALUES (%s, %s, %s, %s)",
            [entry_id, account_id, amount, currency],
        )


def test_database_refuses_an_unbalanced_entry_at_commit(world):
    accounts = ledger.accounts_for(world["fund"])
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        entry = _entry(world)
        _raw_line(entry.pk, accounts[AccountKind.BANK_CASH].pk, "100.00")
        _raw_line(entry.pk, accounts[AccountKind.OTHER_INCOME].pk, "-99.00")
    assert not JournalEntry.objects.exists()
    assert not JournalLine.objects.exists()


def test_database_refuses_an_entry_without_lines(world):
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        _entry(world)
    assert not JournalEntry.objects.exists()


def test_database_refuses_a_line_in_another_currency(world):
    accounts = ledger.accounts_for(world["fund"])
    with pytest.raises(DatabaseError, match="does not match"), transaction.atomic():
        entry = _entry(world)
        _raw_line(entry.pk, accounts[AccountKind.BANK_CASH].pk, "100.00", "MXN")
    assert not JournalEntry.objects.exists()


def test_database_refuses_fractions_of_a_yen(world):
    yen = FundFactory(foundation=world["foundation"], currency="JPY", fundraising_goal=None)
    accounts = ledger.accounts_for(yen)
    with pytest.raises(DatabaseError, match="not whole"), transaction.atomic():
        entry = _entry(world, "JPY")
        _raw_line(entry.pk, accounts[AccountKind.BANK_CASH].pk, "100.50", "JPY")


def test_database_refuses_update_and_delete_of_journal_rows(world):
    fund_with(world, 100)
    entry = JournalEntry.objects.get()
    for statement in (
        "UPDATE grants_journalline SET amount = amount * 2",
        "DELETE FROM grants_journalline",
        "UPDATE grants_journalentry SET memo = 'rewritten'",
        "DELETE FROM grants_journalentry",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert JournalEntry.objects.get().memo == entry.memo
    assert ledger.balances(world["fund"]).received == usd(100)


def test_a_balanced_entry_commits(world):
    fund_with(world, 100)
    assert JournalLine.objects.count() == 2


def test_two_officers_committing_more_than_the_fund_holds_at_once(world):
    """$10,000 available; two officers award $6,000 each at the same instant: exactly one wins."""
    fund_with(world, 10000)
    first, second = approved(world, 6000), approved(world, 6000)

    def make(application):
        return lambda: awards.make_award(
            application, by=world["officer"], amount=usd(6000), start_date=D(2026, 1, 1),
            end_date=D(2026, 12, 31), schedule=[(D(2026, 1, 1), usd(6000))],
        )  # fmt: skip

    outcomes = race(make(first), make(second))
    assert len(successes(outcomes)) == 1
    (refusal,) = errors(outcomes)
    assert isinstance(refusal, ledger.InsufficientFunds)
    assert Award.objects.count() == 1
    b = ledger.balances(world["fund"])
    assert b.committed == usd(6000)
    assert b.available == usd(4000)


def test_two_finance_officers_paying_the_same_installment_at_once_pay_once(world):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installment = award.installments.get()

    def pay(person):
        return lambda: installments.record_payment_outside_processor(
            installment, by=person, paid_on=D(2026, 2, 1), reference="CHK 5"
        )

    assert errors(race(pay(world["finance"]), pay(world["finance2"]))) == []
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1
    assert ledger.balances(world["fund"]).paid == usd(1000)


def test_amendment_and_award_racing_for_the_last_dollars(world):
    fund_with(world, 10000)
    award = award_for(world, 5000)
    other = approved(world, 4000)
    outcomes = race(
        lambda: awards.amend_award(award, by=world["officer"], new_amount=usd(7000), reason="More"),
        lambda: awards.make_award(other, by=world["officer"], amount=usd(4000), start_date=D(2026, 1, 1),
                                  end_date=D(2026, 12, 31), schedule=[(D(2026, 1, 1), usd(4000))]),
    )  # fmt: skip
    assert len(successes(outcomes)) == 1
    assert ledger.balances(world["fund"]).available >= Money(0, "USD")
