"""Benchmark: the Donations sheet of the audit workbook, 100,000 gifts, against bare openpyxl.

Not part of the default run (``make bench`` runs ``tests/bench``). It generates the gifts with
``bulk_create``, then in the same run times (a) the project's ``WorkbookWriter`` writing the
Donations sheet and (b) openpyxl's write-only mode writing the same rows from the same query with
no formatting, totals or translation; then measures the peak memory the project's export
allocates (tracemalloc, in a separate pass so its overhead does not distort the times).
Targets: (a) takes at most twice (b), and the export allocates less than 150 MB at its peak.
"""

import datetime
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from djmoney.money import Money
from openpyxl import Workbook

from grants.exports.audit import AuditScope, donations_queryset, donations_sheet
from grants.exports.base import ExportInfo, WorkbookWriter, chunked
from grants.models import Donation, DonationStatus, Donor, GiftKind, PaymentChannel
from tests.factories import FoundationFactory, FundFactory

DONATIONS = 100_000
DONORS = 5_000
MAX_RATIO = 2.0
MAX_MEMORY_MB = 150
MB = 1024 * 1024


def generate(fund) -> None:
    """``DONATIONS`` completed gifts from ``DONORS`` donors over 2025, inserted in batches."""
    foundation = fund.foundation
    donors = Donor.objects.bulk_create(
        [Donor(foundation=foundation, email=f"donor{n}@example.org", name=f"Donor Número {n}")
         for n in range(DONORS)],
        batch_size=2000,
    )  # fmt: skip
    start = datetime.date(2025, 1, 1)
    batch = []
    for n in range(DONATIONS):
        amount = Money(10 + n % 490, "USD")
        batch.append(
            Donation(
                foundation=foundation, fund=fund, donor=donors[n % DONORS],
                kind=GiftKind.MONTHLY if n % 5 == 0 else GiftKind.ONE_TIME,
                channel=PaymentChannel.CHECK if n % 7 == 0 else PaymentChannel.STRIPE,
                status=DonationStatus.COMPLETED, amount=amount, gross=amount, fee=Money("0.59", "USD"),
                anonymous=n % 11 == 0, charge_id=f"ch_{n:08d}", payment_intent_id=f"pi_{n:08d}",
                receipt_number=n + 1, received_on=start + datetime.timedelta(days=n % 365),
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Donation.objects.bulk_create(batch)
            batch = []
    if batch:
        Donation.objects.bulk_create(batch)


def project_export(scope, target: Path) -> int:
    info = ExportInfo(title="Audit", description="Donations benchmark", creator="bench")
    return WorkbookWriter(info).write([donations_sheet(scope)], target)


def bare_openpyxl(scope, target: Path) -> int:
    """The same rows from the same query, written plainly: the floor the project's writer is held to."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Donations")
    sheet.append(["Date", "Receipt", "Donation", "Donor", "Email", "Anonymous", "Fund", "Kind", "Channel",
                  "Currency", "Gross", "Fee", "Refunded", "Status", "Reference", "Session", "Intent",
                  "Charge", "Invoice"])  # fmt: skip
    count = 0
    for d in chunked(donations_queryset(scope)):
        sheet.append([
            d.received_on, d.receipt_number, d.pk, d.donor.name, d.donor.email, d.anonymous, d.fund.name,
            d.kind, d.channel, str(d.gross.currency), d.gross.amount, d.fee.amount if d.fee else None,
            d.amount_refunded.amount if d.amount_refunded else None, d.status, d.reference,
            d.checkout_session_id, d.payment_intent_id, d.charge_id, d.invoice_id,
        ])  # fmt: skip
        count += 1
    workbook.save(target)
    return count


def timed(function, *args) -> tuple[float, int]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


@pytest.mark.django_db
def test_export_100k_donations_against_bare_openpyxl():
    foundation = FoundationFactory(slug="bench", name="Bench Foundation")
    fund = FundFactory(foundation=foundation, name="Bench Fund", currency="USD")
    started = time.perf_counter()
    generate(fund)
    generated = time.perf_counter() - started
    scope = AuditScope.build(
        foundation=foundation, date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2025, 12, 31)
    )
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        bare_openpyxl(scope, folder / "warm.xlsx")  # warm the database cache for both runs
        bare_seconds, bare_rows = timed(bare_openpyxl, scope, folder / "bare.xlsx")
        project_seconds, project_rows = timed(project_export, scope, folder / "project.xlsx")
        size = (folder / "project.xlsx").stat().st_size

        tracemalloc.start()
        project_export(scope, folder / "memory.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    assert project_rows == bare_rows == DONATIONS
    ratio = project_seconds / bare_seconds
    peak_mb = peak / MB
    print(f"\ngenerated {DONATIONS:,} donations in {generated:.1f} s")
    print(
        f"project writer {project_seconds:.2f} s, bare openpyxl {bare_seconds:.2f} s, file {size / MB:.1f} MB"
    )
    print(
        f"export 100k donations: time ratio {ratio:.2f} (target ≤ {MAX_RATIO:g}), "
        f"peak memory +{peak_mb:.0f} MB (target < {MAX_MEMORY_MB} MB)"
    )
    assert ratio <= MAX_RATIO
    assert peak_mb < MAX_MEMORY_MB
