"""Two finance officers releasing the same payment at the same instant, on two connections.

Transactional: each release commits for real, and the simulated Stripe's webhooks are delivered
as each call commits. Skipped on SQLite.
"""

import datetime

import pytest

from grants.models import (
    Disbursement,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    PayeeAccount,
    PayoutStatus,
    SimulatedStripeObject,
)
from grants.payments.simulated import SimulatedGateway
from grants.services import awards, installments, payments
from tests import pages
from tests.concurrency import race
from tests.grants.money_fixtures import award_for, fund_with

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


def test_two_finance_officers_releasing_the_same_payment_at_once_make_one_transfer(world):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=datetime.date(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    payee = PayeeAccount.objects.get()
    SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id)
    payee.refresh_from_db()
    assert payee.payout_status == PayoutStatus.READY, "account.updated went through the Connect endpoint"
    installment = award.installments.get()

    def release(person):
        return lambda: payments.release_installment(installment, by=person)

    outcomes = race(release(world["finance"]), release(world["finance2"]))

    assert all(isinstance(outcome, Disbursement) for outcome in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert Disbursement.objects.count() == 1
    assert SimulatedStripeObject.objects.filter(kind="transfer").count() == 1
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.installment.status == InstallmentStatus.PAID
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1
