"""A worked example an auditor would check by hand: one fund's first half of 2026, exported.

Before the period: $2,000 by check (the opening balance). In it: $10,000 by check; three
online gifts (one covering the fee, one partly refunded, one disputed) and a $250 check gift;
award A ($4,000 in two payments, both paid, the second reversed by Stripe); award B ($2,500,
cut to $2,000, then cancelled); an accepted interim report of A with $1,200 spent. After the
period: one more gift, which the export must leave out.

Every Summary figure equals the detail sheets' sums and the ledger's own balances, and the
totals row's formulas (computed by LibreOffice, as the auditor's spreadsheet would) equal the
Python sums.
"""

import csv
import datetime
import io
import subprocess
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from djmoney.money import Money

from grants.models import AccountKind, DisbursementStatus, ReportKind, ReportStatus
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import awards, donations, exports, installments, ledger, offline_gifts, payments, reports
from tests.grants.money_fixtures import award_for, usd
from tests.grants.report_helpers import METRICS, set_budget, spend

pytestmark = pytest.mark.django_db
D = datetime.date
UTC = datetime.UTC
START, END = D(2026, 1, 1), D(2026, 6, 30)


def on(day: D):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 17, tzinfo=UTC))


def give(world, callbacks, amount, *, cover_fee=False, email="rosa@example.org"):
    donation, _url = donations.start_donation(
        fund=world["fund"], amount=usd(amount), monthly=False, cover_fee=cover_fee, anonymous=False,
        name="Rosa Díaz", email=email, language="es", success_url="http://testserver/thanks/",
        cancel_url="http://testserver/",
    )  # fmt: skip
    with callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_checkout(donation.checkout_session_id)
    donation.refresh_from_db()
    return donation


def seed_year(world, callbacks):
    """The scenario of the module docstring; returns the ledger's balances at the period's edges."""
    fund, finance, officer = world["fund"], world["finance"], world["officer"]
    gateway = SimulatedGateway(world["foundation"])
    with on(D(2025, 12, 15)):
        ledger.record_income(fund=fund, amount=usd(2000), source="check", received_on=D(2025, 12, 15),
                             reference="CHK-OLD", by=finance)  # fmt: skip
    at_start = ledger.balances(fund)
    with on(D(2026, 1, 5)):
        ledger.record_income(fund=fund, amount=usd(10000), source="grant", received_on=D(2026, 1, 5),
                             reference="GRANT-1", by=finance)  # fmt: skip
    with on(D(2026, 1, 20)):
        give(world, callbacks, 100, cover_fee=True)
        refunded = give(world, callbacks, 50, email="luis@example.org")
        disputed = give(world, callbacks, 80, email="ana@example.org")
    with on(D(2026, 1, 25)):
        offline_gifts.record_offline_gift(fund=fund, donor_name="Iglesia San José", donor_email="sj@example.org",
                                          amount=usd(250), channel="check", received_on=D(2026, 1, 25),
                                          reference="CHK-77", by=finance, send_receipt=False)  # fmt: skip
    with on(D(2026, 2, 1)), callbacks(execute=True):
        gateway.create_refund(payment_intent=refunded.payment_intent_id, amount=usd(20), metadata={},
                              idempotency_key="refund:partial")  # fmt: skip
    with on(D(2026, 2, 10)), callbacks(execute=True):
        gateway.open_dispute(disputed.charge_id)
    with on(D(2026, 2, 1)):
        award_a = award_for(world, 4000, schedule=[(D(2026, 2, 1), usd(2000)), (D(2026, 3, 1), usd(2000))])
        award_b = award_for(world, 2500)
        for award in (award_a, award_b):
            awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
        set_budget(award_a.application)
    with on(D(2026, 2, 15)):
        awards.amend_award(award_b, by=officer, new_amount=usd(2000), reason="Smaller caseload")
    with on(D(2026, 2, 20)):
        payments.start_onboarding(organization=world["organization"], foundation=world["foundation"],
                                  by=world["grantee"])  # fmt: skip
        payee = payments.payee_for(award_a)
        with callbacks(execute=True):
            gateway.complete_onboarding(payee.stripe_account_id, "complete")
    with on(D(2026, 3, 2)):
        installments.mark_due_installments(today=D(2026, 3, 2))
        award_b.refresh_from_db()
        awards.cancel_award(award_b, by=officer, reason="The organization merged")
        with callbacks(execute=True):
            paid = [
                payments.release_installment(i, by=finance) for i in award_a.installments.order_by("number")
            ]
    with on(D(2026, 4, 1)), callbacks(execute=True):
        gateway.reverse_transfer(transfer_id=paid[1].stripe_transfer_id, amount=None, metadata={},
                                 idempotency_key="reverse:second")  # fmt: skip
    paid[1].refresh_from_db()
    assert paid[1].status == DisbursementStatus.REVERSED
    award_a.refresh_from_db()
    with on(D(2026, 5, 1)):
        report = reports.report_for(
            award_a.report_due_dates.get(kind=ReportKind.INTERIM), by=world["grantee"]
        )
        spend(report, world, 1200, "0", date=D(2026, 3, 10))
        report = reports.save_draft(report, by=world["grantee"], period_start=D(2026, 2, 1),
                                    period_end=D(2026, 7, 31), narrative="Hearings.",
                                    metrics={"people_represented": "12"},
                                    variance_explanations={"0": "x", "1": "x", "2": "x"})  # fmt: skip
        report = reports.submit_report(report, by=world["grantee"], metric_definitions=METRICS)
        report = reports.accept_report(report, by=officer)
        assert report.status == ReportStatus.ACCEPTED
    at_end = ledger.balances(fund)
    with on(D(2026, 7, 10)):
        give(world, callbacks, 500, email="late@example.org")
    return at_start, at_end


def sheet_rows(book, title) -> list[dict]:
    sheet = book[title]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    return [row for row in rows if not str(row[header[0]] or "").startswith("Total")]


def total(rows, column) -> Money:
    return usd(sum((Decimal(str(row[column] or 0)) for row in rows), Decimal(0)))


def journal_net(rows, account: AccountKind) -> Money:
    """Net movement of one account, signed as the account normally runs (from the Journal sheet)."""
    lines = [row for row in rows if row["Account"] == account.label]
    movement = total(lines, "Debit") - total(lines, "Credit")
    return movement * ledger.NORMAL_BALANCE[account]


@pytest.fixture
def exported(world, django_capture_on_commit_callbacks):
    at_start, at_end = seed_year(world, django_capture_on_commit_callbacks)
    job = exports.request_export(
        foundation=world["foundation"], by=world["auditor"], date_from=START, date_to=END, language="en"
    )
    with job.file.open("rb") as handle:
        data = handle.read()
    return at_start, at_end, data


def test_every_summary_figure_ties_out_with_the_detail_sheets_and_the_ledger(exported):
    at_start, at_end, data = exported
    book = openpyxl.load_workbook(io.BytesIO(data))
    (summary,) = sheet_rows(book, "Summary")
    figure = {
        name: usd(Decimal(str(value))) for name, value in summary.items() if isinstance(value, int | float)
    }
    journal = sheet_rows(book, "Journal")
    gifts = sheet_rows(book, "Donations")
    payouts = sheet_rows(book, "Installments and disbursements")
    spending = sheet_rows(book, "Expenditures")

    assert len(gifts) == 4, "the July gift is outside the period"
    assert figure["Opening balance (cash)"] == at_start.cash == usd(2000)
    assert figure["Donations (gross)"] == total(gifts, "Gross received in period")
    assert figure["Donations (gross)"] == journal_net(journal, AccountKind.DONATIONS)
    assert figure["Donations (gross)"] == at_end.donations - at_start.donations
    assert figure["Processing fees"] == total(gifts, "Processing fee") == at_end.fees
    assert figure["Processing fees"] > usd(0)
    assert figure["Refunds and disputes"] == journal_net(journal, AccountKind.REFUNDS) == at_end.refunds
    assert figure["Refunds and disputes"] == usd(100) == total(gifts, "Refunds and disputes")
    assert figure["Other income"] == journal_net(journal, AccountKind.OTHER_INCOME) == usd(10000)
    assert figure["Other income"] == at_end.other_income - at_start.other_income
    assert figure["Awards committed"] == journal_net(journal, AccountKind.GRANTS_AWARDED) == at_end.committed
    assert figure["Awards committed"] == usd(4000)  # A 4,000 + B 2,500 - 500 cut - 2,000 released
    assert figure["Disbursed"] == total(payouts, "Paid out") - total(payouts, "Reversed") == at_end.paid
    assert figure["Disbursed"] == usd(2000)
    assert figure["Returned"] == at_end.returned == usd(0)
    assert figure["Outstanding commitments at end"] == at_end.outstanding == usd(2000)
    assert figure["Reported spending"] == total(spending, "Amount") == usd(1200)
    assert figure["Closing balance (cash)"] == at_end.cash
    assert figure["Available at end"] == at_end.available
    assert figure["Closing balance (cash)"] == (
        figure["Opening balance (cash)"] + figure["Donations (gross)"] - figure["Processing fees"]
        - figure["Refunds and disputes"] + figure["Other income"] - figure["Disbursed"] + figure["Returned"]
    )  # fmt: skip
    debits, credits = total(journal, "Debit"), total(journal, "Credit")
    assert debits == credits


def test_libreoffice_computes_the_totals_row_to_the_python_sums(exported, tmp_path):
    _start, _end, data = exported
    source = tmp_path / "audit.xlsx"
    source.write_bytes(data)
    profile = tmp_path / "profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "csv",
         "--outdir", str(tmp_path), str(source)],
        check=True, timeout=120, capture_output=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO((tmp_path / "audit.csv").read_text("utf-8-sig"))))
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert totals[0] == "Total USD"

    def number(text: str) -> Decimal:
        return Decimal(text.replace("$", "").replace(",", "").strip() or "0")

    for index, name in enumerate(header[2:], start=2):
        python_sum = sum((number(row[index]) for row in body), Decimal(0))
        assert number(totals[index]) == python_sum, name
    book = openpyxl.load_workbook(io.BytesIO(data))
    (summary,) = sheet_rows(book, "Summary")
    assert number(totals[header.index("Closing balance (cash)")]) == Decimal(
        str(summary["Closing balance (cash)"])
    )
