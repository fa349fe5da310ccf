"""Worked examples of the ledger for payments to vendors, account by account after each step.

1. An installment of a $1,000 award paid to a law firm by check, at the grantee's request.
2. $750 of direct assistance to a utility through Stripe, taken back by Stripe, then paid by check.

Each runs on the default database (SQLite) and again on PostgreSQL with real commits (marked
``postgres``, skipped on SQLite), as tests/grants/test_books_tie_out_postgres.py does.
"""

import datetime

import pytest

from grants.models import (
    AccountKind,
    AwardStatus,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    VendorPaymentStatus,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import vendor_payments
from tests import pages
from tests.grants.money_fixtures import usd
from tests.grants.vendor_helpers import balances, check_vendor, due_award, invoice, stripe_vendor

K = AccountKind
D = datetime.date


def _accounts(bank, processor, income, awarded, payable):
    return {
        K.BANK_CASH: usd(bank),
        K.PROCESSOR_CASH: usd(processor),
        K.OTHER_INCOME: usd(income),
        K.GRANTS_AWARDED: usd(awarded),
        K.GRANTS_PAYABLE: usd(payable),
    }


def installment_paid_by_check(world):
    fund = world["fund"]
    award = due_award(world, amount=1000, funded=10000)
    # The fund got $10,000 by check; the award committed $1,000 of it.
    assert balances(fund) == _accounts(10000, 0, 10000, 1000, 1000)

    installment = award.installments.get()
    vendor = check_vendor(world)
    payment = vendor_payments.request_vendor_payment(
        by=world["grantee"], vendor=vendor, installment=installment,
        purpose="Representation at the bond hearing", invoice=invoice(),
    )  # fmt: skip
    assert payment.amount == usd(1000) and payment.fund == fund
    assert balances(fund) == _accounts(10000, 0, 10000, 1000, 1000)  # asking moves nothing

    vendor_payments.approve(payment, by=world["officer"])
    # The money was committed with the award: approving only takes the installment.
    assert balances(fund) == _accounts(10000, 0, 10000, 1000, 1000)

    vendor_payments.record_check(payment, by=world["finance"], check_number="CHK 1044", paid_on=D(2026, 3, 3))
    assert balances(fund) == _accounts(9000, 0, 10000, 1000, 0)

    (entry,) = JournalEntry.objects.filter(cause=EntryCause.VENDOR_PAYMENT)
    assert entry.idempotency_key == f"vendor-payment:{payment.pk}:pay"
    assert entry.vendor_payment_id == payment.pk and entry.award_id == award.pk
    assert entry.reference == "CHK 1044" and entry.effective_date == D(2026, 3, 3)
    installment.refresh_from_db()
    award.refresh_from_db()
    payment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID
    assert award.status == AwardStatus.ACTIVE
    assert payment.status == VendorPaymentStatus.PAID and payment.paid_on == D(2026, 3, 3)

    # Recording the same check again changes nothing.
    vendor_payments.record_check(
        payment, by=world["finance2"], check_number="CHK 1044", paid_on=D(2026, 3, 3)
    )
    assert balances(fund) == _accounts(9000, 0, 10000, 1000, 0)


def direct_assistance_through_stripe(world, callbacks):
    fund = world["fund"]
    due_award(world, amount=1000, funded=10000)  # the organization has an award (not used here)
    vendor = stripe_vendor(world, callbacks)
    payment = vendor_payments.request_vendor_payment(
        by=world["officer"], vendor=vendor, fund=fund, organization=world["organization"], amount=usd(750),
        purpose="Electricity bill, March",
    )  # fmt: skip
    assert balances(fund) == _accounts(10000, 0, 10000, 1000, 1000)

    vendor_payments.approve(payment, by=world["officer"])
    # Direct assistance is committed when approved: awarded and owed both grow by $750.
    assert balances(fund) == _accounts(10000, 0, 10000, 1750, 1750)
    commit = JournalEntry.objects.get(cause=EntryCause.DIRECT_ASSISTANCE)
    assert commit.idempotency_key == f"vendor-payment:{payment.pk}:commit"

    with callbacks(execute=True):
        disbursement = vendor_payments.release(payment, by=world["finance"])
    disbursement.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.vendor_payment_id == payment.pk and disbursement.installment_id is None
    # Paid from the foundation's Stripe balance: processor cash goes down by $750.
    assert balances(fund) == _accounts(10000, -750, 10000, 1750, 1000)
    payment.refresh_from_db()
    assert payment.status == VendorPaymentStatus.PAID

    with callbacks(execute=True):
        SimulatedGateway(world["foundation"]).reverse_transfer(
            transfer_id=disbursement.stripe_transfer_id, amount=None, metadata={}, idempotency_key="rev-1"
        )
    # Stripe took it back: the cash is at Stripe again and the $750 is owed again.
    assert balances(fund) == _accounts(10000, 0, 10000, 1750, 1750)
    payment.refresh_from_db()
    assert payment.status == VendorPaymentStatus.FAILED
    reversal = JournalEntry.objects.get(cause=EntryCause.VENDOR_PAYMENT_REVERSAL)
    assert reversal.vendor_payment_id == payment.pk

    vendor_payments.record_check(
        payment, by=world["finance2"], check_number="CHK 2001", paid_on=D(2026, 3, 9)
    )
    assert balances(fund) == _accounts(9250, 0, 10000, 1750, 1000)
    payment.refresh_from_db()
    assert payment.status == VendorPaymentStatus.PAID
    assert JournalEntry.objects.filter(cause=EntryCause.VENDOR_PAYMENT).count() == 2


# --- On the default database ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_installment_paid_to_a_vendor_by_check(world):
    installment_paid_by_check(world)


@pytest.mark.django_db
def test_direct_assistance_through_stripe_reversed_then_paid_by_check(
    world, django_capture_on_commit_callbacks
):
    direct_assistance_through_stripe(world, django_capture_on_commit_callbacks)


# --- On PostgreSQL, every step committed -------------------------------------------------------


@pytest.fixture
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_installment_paid_to_a_vendor_by_check_on_postgresql(_page_tree, world):
    installment_paid_by_check(world)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_direct_assistance_through_stripe_on_postgresql(
    _page_tree, world, django_capture_on_commit_callbacks
):
    direct_assistance_through_stripe(world, django_capture_on_commit_callbacks)


# --- On PostgreSQL: two people at the same instant, on two connections ---------------------------


def _vendor_ready(world):
    """A Stripe vendor whose payout account is ready (webhooks delivered as each call commits)."""
    from grants.models import PayeeAccount

    vendor = vendor_payments.add_vendor(
        world["foundation"], by=world["finance"], name="Pacific Power", kind="utility",
        payment_method="stripe", email="billing@pacific.example",
    )  # fmt: skip
    vendor_payments.send_onboarding_link(vendor, by=world["finance"])
    SimulatedGateway(world["foundation"]).complete_onboarding(
        PayeeAccount.objects.get(vendor=vendor).stripe_account_id
    )
    return vendor


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_finance_officers_releasing_one_vendor_payment_at_once_pay_once(_page_tree, world):
    from grants.models import Disbursement
    from grants.payments.simulator.models import SimulatedStripeObject
    from tests.concurrency import race

    due_award(world)
    vendor = _vendor_ready(world)
    payment = vendor_payments.request_vendor_payment(
        by=world["officer"], vendor=vendor, fund=world["fund"], organization=world["organization"],
        amount=usd(750), purpose="Electricity bill",
    )  # fmt: skip
    vendor_payments.approve(payment, by=world["officer"])

    outcomes = race(
        lambda: vendor_payments.release(payment, by=world["finance"]),
        lambda: vendor_payments.release(payment, by=world["finance2"]),
    )

    assert all(isinstance(outcome, Disbursement) for outcome in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert SimulatedStripeObject.objects.filter(kind="transfer").count() == 1
    assert JournalEntry.objects.filter(cause=EntryCause.VENDOR_PAYMENT).count() == 1
    assert balances(world["fund"]) == _accounts(10000, -750, 10000, 1750, 1000)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_installment_goes_either_to_the_vendor_or_to_the_grantee_never_both(_page_tree, world):
    from grants.services import installments
    from tests.concurrency import race

    award = due_award(world)
    installment = award.installments.get()
    payment = vendor_payments.request_vendor_payment(
        by=world["grantee"], vendor=check_vendor(world), installment=installment, purpose="Rent for March"
    )

    outcomes = race(
        lambda: vendor_payments.approve(payment, by=world["officer"]),
        lambda: installments.record_payment_outside_processor(
            installment, by=world["finance"], paid_on=D(2026, 3, 2), reference="CHK 77"
        ),
    )

    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(refused) == 1, outcomes
    payment.refresh_from_db()
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID or payment.status == VendorPaymentStatus.APPROVED
    assert not (
        installment.status == InstallmentStatus.PAID and payment.status == VendorPaymentStatus.APPROVED
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_direct_assistance_approvals_never_commit_more_than_the_fund_has(_page_tree, world):
    from grants.services import ledger
    from tests.concurrency import race

    due_award(world, amount=1000, funded=1500)  # $500 available
    vendor = check_vendor(world)
    asked = [
        vendor_payments.request_vendor_payment(
            by=world["officer"],
            vendor=vendor,
            fund=world["fund"],
            organization=world["organization"],
            amount=usd(300),
            purpose=f"Rent {n}",
        )  # fmt: skip
        for n in (1, 2)
    ]

    outcomes = race(*(lambda p=p: vendor_payments.approve(p, by=world["officer"]) for p in asked))

    assert len([o for o in outcomes if isinstance(o, ledger.InsufficientFunds)]) == 1, outcomes
    assert ledger.balances(world["fund"]).available == usd(200)
