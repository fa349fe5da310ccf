"""Benchmark: a fund's balances with 1,000,000 journal lines in the ledger (PostgreSQL only).

The ledger keeps no stored balances: ``grants.services.ledger.balances(fund)`` sums the fund's
journal lines on every call. This bench loads 1,000,000 balanced lines (250,000 four-line
entries) spread evenly over ``FUNDS`` funds of two foundations (50,000 lines in the measured
fund), makes the rows all-visible (``VACUUM ANALYZE``, as autovacuum does on a live database) and
times the real service function ``BENCH_CALLS`` times.

Target: median under 20 ms, answered from the covering index (``account`` INCLUDE ``amount``):
the plan printed by ``EXPLAIN (ANALYZE, BUFFERS)`` of the very SQL ``balances`` ran must be an
Index Only Scan, so the rest of the ledger costs nothing. The time grows with the fund's own
lines (see docs/performance.md), not with the ledger's.

The rows are inserted by one server-side ``INSERT … SELECT generate_series`` with the ledger's
triggers switched off for that session (``session_replication_role = replica``, which needs a
superuser, as the local test server has): every entry balances by construction, and the triggers'
cost belongs to the write path, which the webhook bench measures. They are deleted afterwards;
the test database is dropped at the end of the run anyway.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import AccountKind, LedgerAccount
from grants.services import ledger
from tests.factories import FoundationFactory, FundFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="balances bench needs PostgreSQL (index-only scans): run with DATABASE_URL=postgres://…",
)

LINES = 1_000_000
LINES_PER_ENTRY = 4
FUNDS = 20  # in two foundations; the measured fund holds 1 line in 20 (50,000)
BENCH_CALLS = 50
TARGET_MS = 20.0
MEMO = "balances bench"

# Pairs of (debit, credit) account kinds the generated entries move money between.
PAIRS = [
    (AccountKind.PROCESSOR_CASH, AccountKind.DONATIONS),
    (AccountKind.FEES, AccountKind.PROCESSOR_CASH),
    (AccountKind.BANK_CASH, AccountKind.OTHER_INCOME),
    (AccountKind.GRANTS_AWARDED, AccountKind.GRANTS_PAYABLE),
    (AccountKind.GRANTS_PAYABLE, AccountKind.PROCESSOR_CASH),
    (AccountKind.REFUNDS, AccountKind.PROCESSOR_CASH),
    (AccountKind.OPENING_BALANCE, AccountKind.BANK_CASH),
]

# Entry g (1 .. LINES / 4) belongs to fund g % FUNDS and has four lines: two (debit, credit) pairs
# of the same amount, the pairs chosen in turn from PAIRS. Every entry balances by construction.
GENERATE = """
WITH entries AS (
    INSERT INTO grants_journalentry
        (foundation_id, currency, cause, memo, reference, effective_date, created_at)
    SELECT f.foundation_id, 'USD', 'manual', %(memo)s, g::text, DATE '2024-01-01' + (g %% 730), now()
    FROM generate_series(1, %(entries)s) AS g
    JOIN bench_funds f ON f.slot = g %% %(funds)s
    RETURNING id, reference::bigint AS g
)
INSERT INTO grants_journalline (entry_id, account_id, amount, currency)
SELECT e.id,
       CASE WHEN side.sign = 1 THEN p.debit_account ELSE p.credit_account END,
       side.sign * (100 + (e.g * side.prime) %% 50000) / 100.0,
       'USD'
FROM entries e
CROSS JOIN (VALUES (0, 1, 7919), (0, -1, 7919), (3, 1, 104729), (3, -1, 104729)) AS side(shift, sign, prime)
JOIN bench_funds f ON f.slot = e.g %% %(funds)s
JOIN bench_pairs p ON p.fund_id = f.fund_id AND p.pair = (e.g / %(funds)s + side.shift) %% %(pairs)s
"""


def _generate(funds) -> None:
    accounts = {fund.pk: ledger.accounts_for(fund) for fund in funds}
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                "CREATE TEMP TABLE bench_funds (slot int PRIMARY KEY, fund_id bigint, foundation_id bigint)"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_pairs (fund_id bigint, pair int, debit_account bigint, "
                "credit_account bigint, PRIMARY KEY (fund_id, pair))"
            )
            cursor.executemany(
                "INSERT INTO bench_funds VALUES (%s, %s, %s)",
                [(n, fund.pk, fund.foundation_id) for n, fund in enumerate(funds)],
            )
            cursor.executemany(
                "INSERT INTO bench_pairs VALUES (%s, %s, %s, %s)",
                [
                    (fund.pk, n, accounts[fund.pk][debit].pk, accounts[fund.pk][credit].pk)
                    for fund in funds
                    for n, (debit, credit) in enumerate(PAIRS)
                ],
            )
            cursor.execute(
                GENERATE,
                {"memo": MEMO, "entries": LINES // LINES_PER_ENTRY, "funds": len(funds), "pairs": len(PAIRS)},
            )
            cursor.execute("DROP TABLE bench_funds, bench_pairs")
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def _remove(funds) -> None:
    """Delete the generated rows (the append-only triggers are off for this session only)."""
    fund_ids = [fund.pk for fund in funds]
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                "DELETE FROM grants_journalline WHERE account_id IN "
                "(SELECT id FROM grants_ledgeraccount WHERE fund_id = ANY(%s))",
                [fund_ids],
            )
            cursor.execute("DELETE FROM grants_journalentry WHERE memo = %s", [MEMO])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    LedgerAccount.objects.filter(fund__in=fund_ids).delete()
    foundations = {fund.foundation for fund in funds}
    for fund in funds:
        fund.delete()
    for foundation in foundations:
        foundation.delete()


def _vacuum() -> None:
    # VACUUM cannot run in a transaction: outside a test the connection is in autocommit.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) grants_journalline")
        cursor.execute("VACUUM (ANALYZE) grants_journalentry")
        cursor.execute("ANALYZE grants_ledgeraccount")


@pytest.fixture(scope="module")
def ledger_at_scale(django_db_setup, django_db_blocker):
    """(measured fund, its line count): the generated ledger, committed and vacuumed; removed after."""
    with django_db_blocker.unblock():
        first = FoundationFactory(slug="bench-ledger-a", name="Bench Ledger A")
        second = FoundationFactory(slug="bench-ledger-b", name="Bench Ledger B")
        funds = [
            FundFactory(foundation=first if n % 2 == 0 else second, name=f"Bench Fund {n}", currency="USD")
            for n in range(FUNDS)
        ]
        measured = funds[0]
        try:
            started = time.perf_counter()
            _generate(funds)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            _vacuum()
            vacuumed = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM grants_journalline l JOIN grants_ledgeraccount a "
                    "ON a.id = l.account_id WHERE a.fund_id = %s",
                    [measured.pk],
                )
                (fund_lines,) = cursor.fetchone()
            print(
                f"\ngenerated {LINES:,} journal lines over {FUNDS} funds in {generated:.1f} s "
                f"(vacuum analyze {vacuumed:.1f} s); the measured fund has {fund_lines:,}"
            )
            yield measured, fund_lines
        finally:
            _remove(funds)
            connection.close()


def _explain(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_fund_balances_at_a_million_lines_from_the_index(ledger_at_scale):
    fund, fund_lines = ledger_at_scale
    assert fund_lines == LINES // FUNDS

    with CaptureQueriesContext(connection) as captured:
        result = ledger.balances(fund)
    assert len(captured.captured_queries) == 1, "balances() must be one query"
    sql = captured.captured_queries[0]["sql"]
    # The books of the generated fund balance: every entry moved money between its own accounts.
    assert sum(money.amount * ledger.NORMAL_BALANCE[kind] for kind, money in result.by_account.items()) == 0
    assert result.donations.amount > 0

    timings = []
    for _ in range(BENCH_CALLS):
        started = time.perf_counter()
        ledger.balances(fund)
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    plan = _explain(sql)

    print("\nSQL of balances(fund):\n  " + sql)
    print("EXPLAIN (ANALYZE, BUFFERS):\n  " + "\n  ".join(plan))
    holds = median < TARGET_MS
    print(
        f"fund balances at {LINES:,} journal lines ({fund_lines:,} in the fund): median "
        f"{median:.1f} ms over {BENCH_CALLS} calls (min {min(timings):.1f}, max {max(timings):.1f}) "
        f"(target < {TARGET_MS:g} ms) {'holds' if holds else 'fails'}"
    )
    assert any("Index Only Scan" in line for line in plan), "balances must be answered from the index"
    assert holds
