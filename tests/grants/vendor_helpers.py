"""Shared steps for the vendor-payment tests: an award due, vendors, a ready Stripe vendor."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from grants.models import AccountKind, PayeeAccount, Role, VendorPaymentMethod
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import awards, installments, ledger, vendor_payments
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

D = datetime.date
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def invoice(name="invoice.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def due_award(world, amount=1000, funded=10000, schedule=None):
    """An accepted award of ``amount`` whose one payment is due; the fund got ``funded`` by check."""
    fund_with(world, funded)
    award = award_for(world, amount, schedule=schedule)
    awards.accept_award(award, by=world["grantee"], full_name="Ana María López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    return award


def add_officer2(world):
    world["officer2"] = staff(world["foundation"], Role.PROGRAM_OFFICER, email="officer2@example.org")
    return world["officer2"]


def check_vendor(world, name="Bufete Legal Sánchez"):
    return vendor_payments.add_vendor(
        world["foundation"], by=world["finance"], name=name, kind="law_firm",
        payment_method=VendorPaymentMethod.CHECK,
    )  # fmt: skip


def stripe_vendor(world, callbacks, name="Pacific Power", ready=True):
    vendor = vendor_payments.add_vendor(
        world["foundation"], by=world["finance"], name=name, kind="utility",
        payment_method=VendorPaymentMethod.STRIPE, email="billing@pacific.example",
    )  # fmt: skip
    with callbacks(execute=True):
        vendor_payments.send_onboarding_link(vendor, by=world["finance"])
    if ready:
        payee = PayeeAccount.objects.get(vendor=vendor)
        with callbacks(execute=True):
            SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id, "complete")
    return vendor


def balances(fund) -> dict[str, object]:
    """Every account's balance of ``fund`` (signed as the account normally runs)."""
    b = ledger.balances(fund)
    return {
        kind: b.by_account.get(kind, usd(0))
        for kind in (
            AccountKind.BANK_CASH,
            AccountKind.PROCESSOR_CASH,
            AccountKind.OTHER_INCOME,
            AccountKind.GRANTS_AWARDED,
            AccountKind.GRANTS_PAYABLE,
        )
    }
