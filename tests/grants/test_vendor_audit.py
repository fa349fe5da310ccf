"""The auditor's workbook with payments to vendors: the "Vendor payments" sheet ties out with the
Summary ("Disbursed" and "of which paid to vendors") and with the journal's lines of its causes."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import vendor_payments
from tests.grants.money_fixtures import usd
from tests.grants.test_export_tie_out import (
    ALL_TIME,
    amount,
    assert_sheets_tie_out_with_summary,
    export,
    sheet_rows,
    summaries,
)
from tests.grants.vendor_helpers import check_vendor, due_award, stripe_vendor

pytestmark = pytest.mark.django_db
D = datetime.date


def test_vendor_payments_tie_out_with_summary_and_journal(world, django_capture_on_commit_callbacks):
    callbacks = django_capture_on_commit_callbacks
    award = due_award(world, amount=1000, funded=10000)
    law_firm = check_vendor(world)
    utility = stripe_vendor(world, callbacks)
    by_check = vendor_payments.request_vendor_payment(
        by=world["grantee"], vendor=law_firm, installment=award.installments.get(), purpose="Bond hearing"
    )
    vendor_payments.approve(by_check, by=world["officer"])
    vendor_payments.record_check(by_check, by=world["finance"], check_number="CHK 1", paid_on=D(2026, 3, 3))
    direct = vendor_payments.request_vendor_payment(
        by=world["officer"], vendor=utility, fund=world["fund"], organization=world["organization"],
        amount=usd(750), purpose="Electricity",
    )  # fmt: skip
    vendor_payments.approve(direct, by=world["officer"])
    with callbacks(execute=True):
        disbursement = vendor_payments.release(direct, by=world["finance"])
    disbursement.refresh_from_db()
    with callbacks(execute=True):
        SimulatedGateway(world["foundation"]).reverse_transfer(
            transfer_id=disbursement.stripe_transfer_id, amount=None, metadata={}, idempotency_key="rev-a"
        )
    vendor_payments.record_check(direct, by=world["finance2"], check_number="CHK 2", paid_on=D(2026, 3, 9))
    declined = vendor_payments.request_vendor_payment(
        by=world["officer"], vendor=law_firm, fund=world["fund"], organization=world["organization"],
        amount=usd(90), purpose="Copies",
    )  # fmt: skip
    vendor_payments.decline(declined, by=world["officer"], reason="Not needed")

    book = openpyxl.load_workbook(io.BytesIO(export(world, *ALL_TIME)))
    assert_sheets_tie_out_with_summary(book)

    rows = {row["Reference"]: row for row in sheet_rows(book, "Vendor payments")}
    assert set(rows) == {by_check.reference_code, direct.reference_code, declined.reference_code}
    first = rows[by_check.reference_code]
    assert first["Vendor"] == "Bufete Legal Sánchez" and first["On behalf of"] == "Comité de Defensa"
    assert first["Award"] == award.reference and first["Installment"] == 1
    assert first["Status"] == "Paid" and first["Method"] == "Check" and first["Check number"] == "CHK 1"
    assert (amount(first["Paid out"]), amount(first["Reversed"])) == (Decimal("1000.00"), Decimal("0.00"))
    second = rows[direct.reference_code]
    assert (amount(second["Paid out"]), amount(second["Reversed"])) == (Decimal("1500.00"), Decimal("750.00"))
    assert len(second["Journal entries"].split(", ")) == 4  # committed, paid, reversed, paid by check
    assert amount(rows[declined.reference_code]["Paid out"]) == 0

    summary = summaries(book)["Rapid Defense Fund"]
    assert summary["of which paid to vendors"] == Decimal("1750.00")
    assert summary["Disbursed"] == Decimal("1750.00")
    # Installment 1 went to the vendor: the installments sheet does not count it again.
    (installment_row,) = sheet_rows(book, "Installments and disbursements")
    assert amount(installment_row["Paid out"]) == 0 and installment_row["Status"] == "Paid"
