"""The journal's rules added by migration 0020, held by PostgreSQL itself across real commits:
TRUNCATE is refused, and an entry's lines come from the transaction that created it.

Transactional tests (the triggers compare transaction ids, so each step must really commit).
Skipped on SQLite.
"""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction

from grants.models import AccountKind, EntryCause, JournalEntry, JournalLine
from grants.services import ledger
from tests import pages
from tests.grants.money_fixtures import fund_with, usd

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = datetime.date


@pytest.fixture(autouse=True)
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


def _raw_line(entry_id, account_id, amount):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO grants_journalline (entry_id, account_id, amount, currency) VALUES (%s, %s, %s, 'USD')",
            [entry_id, account_id, amount],
        )


@pytest.mark.parametrize("table", ["grants_journalentry", "grants_journalline"])
def test_truncate_is_refused(world, table):
    fund_with(world, 100)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert JournalEntry.objects.count() == 1
    assert JournalLine.objects.count() == 2


def test_lines_cannot_be_added_to_an_entry_committed_earlier(world):
    fund_with(world, 100)  # committed: its own transaction
    entry = JournalEntry.objects.get()
    accounts = ledger.accounts_for(world["fund"])
    with pytest.raises(DatabaseError, match="earlier transaction"), transaction.atomic():
        _raw_line(entry.pk, accounts[AccountKind.BANK_CASH].pk, "50.00")
        _raw_line(entry.pk, accounts[AccountKind.OTHER_INCOME].pk, "-50.00")
    assert JournalLine.objects.filter(entry=entry).count() == 2
    assert ledger.balances(world["fund"]).cash == usd(100)


def test_lines_in_a_savepoint_of_the_entrys_transaction_are_accepted(world):
    """Django's savepoints are subtransactions: the entry's top-level transaction id still matches."""
    accounts = ledger.accounts_for(world["fund"])
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            foundation=world["foundation"], currency="USD", cause=EntryCause.MANUAL, memo="raw",
            effective_date=D(2026, 1, 1),
        )  # fmt: skip
        with transaction.atomic():
            _raw_line(entry.pk, accounts[AccountKind.BANK_CASH].pk, "7.00")
        with transaction.atomic():
            _raw_line(entry.pk, accounts[AccountKind.OTHER_INCOME].pk, "-7.00")
    assert ledger.balances(world["fund"]).cash == usd(7)


def test_posting_still_works_and_sums_are_exact(world):
    fund_with(world, "4000.00")
    fund_with(world, "0.01")
    big = JournalEntry.objects.get(reference="CHK-4000.00")
    ledger.reverse_manual_entry(big, by=world["finance"], reason="Bounced")
    assert ledger.balances(world["fund"]).cash == usd("0.01")
