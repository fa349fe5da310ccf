"""Two finance officers releasing the same payment at the same instant, on two connections.

Transactional: each release commits for real, and the simulated Stripe's webhooks are delivered
as each call commits. Skipped on SQLite.
"""

import datetime

import pytest
from django.test import override_settings

from grants.models import (
    Disbursement,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    PayeeAccount,
    PayoutStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments import webhooks
from grants.payments.simulator.gateway import SimulatedGateway
from grants.payments.simulator.models import SimulatedStripeObject
from grants.services import awards, installments, payments
from tests import pages
from tests.concurrency import race
from tests.grants.money_fixtures import award_for, fund_with

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


def _accepted_award_due_with_payee(world):
    """An accepted award of $1,000 due now, its organization onboarding to Stripe (not yet ready)."""
    fund_with(world, 10000)
    award = award_for(world, 1000)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=datetime.date(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    return award


def test_two_finance_officers_releasing_the_same_payment_at_once_make_one_transfer(world):
    award = _accepted_award_due_with_payee(world)
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


def test_two_workers_applying_the_same_stored_event_apply_it_once(world):
    """Stripe's transfer.created is stored and queued; two task workers pick it up at once."""
    award = _accepted_award_due_with_payee(world)
    payee = PayeeAccount.objects.get()
    SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        payments.release_installment(award.installments.get(), by=world["finance"])
    stored = WebhookEvent.objects.get(type="transfer.created")
    assert stored.status == WebhookEventStatus.RECEIVED, "queued, not applied, by the intake"

    outcomes = race(lambda: webhooks.apply_event(stored.pk), lambda: webhooks.apply_event(stored.pk))

    assert sorted(map(str, outcomes)) == ["None", "processed"], outcomes
    assert Disbursement.objects.get().status == DisbursementStatus.PAID
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1


def _locked_tables(queries) -> list[str]:
    """The tables locked FOR UPDATE, in the order the statements ran (first time each)."""
    order = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" not in sql:
            continue
        table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
        if table not in order:
            order.append(table)
    return order


def test_a_release_and_a_stripe_event_lock_the_installment_before_the_disbursement(world):
    """Both take the same order, so a release and Stripe's answer about the same payment queue up
    instead of deadlocking."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    award = _accepted_award_due_with_payee(world)
    SimulatedGateway(world["foundation"]).complete_onboarding(PayeeAccount.objects.get().stripe_account_id)
    with (
        override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}),
        CaptureQueriesContext(connection) as release,
    ):
        payments.release_installment(award.installments.get(), by=world["finance"])
    stored = WebhookEvent.objects.get(type="transfer.created")
    with CaptureQueriesContext(connection) as event:
        assert webhooks.apply_event(stored.pk) == "processed"

    for queries in (release.captured_queries, event.captured_queries):
        tables = _locked_tables(queries)
        assert "grants_installment" in tables and "grants_disbursement" in tables, tables
        assert tables.index("grants_installment") < tables.index("grants_disbursement"), tables
        assert "grants_foundation" not in tables, tables
    assert Disbursement.objects.get().status == DisbursementStatus.PAID


LOCK_ORDER = ["grants_award", "grants_installment", "grants_disbursement", "grants_fund"]


def _in_lock_order(tables: list[str]) -> list[str]:
    return [table for table in tables if table in LOCK_ORDER]


def test_releases_events_cancellations_and_amendments_take_locks_in_one_order(world):
    """The portal's one lock order (docs/decisions.md): award, installment, disbursement, fund."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    award = _accepted_award_due_with_payee(world)
    SimulatedGateway(world["foundation"]).complete_onboarding(PayeeAccount.objects.get().stripe_account_id)
    second = award_for(world, 500)
    awards.accept_award(second, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    with (
        override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}),
        CaptureQueriesContext(connection) as release,
    ):
        payments.release_installment(award.installments.get(), by=world["finance"])
    stored = WebhookEvent.objects.get(type="transfer.created")
    with CaptureQueriesContext(connection) as event:
        webhooks.apply_event(stored.pk)
    with CaptureQueriesContext(connection) as amend:
        awards.amend_award(second, by=world["officer"], new_amount=second.amount * 2, reason="More families")
    with CaptureQueriesContext(connection) as cancel:
        awards.cancel_award(second, by=world["officer"], reason="The group closed")

    for name, captured in (("release", release), ("event", event), ("amend", amend), ("cancel", cancel)):
        order = _in_lock_order(_locked_tables(captured.captured_queries))
        assert order == sorted(order, key=LOCK_ORDER.index), (name, order)
        assert order[0] == "grants_award", (name, order)


def test_cancelling_an_award_while_its_payment_is_released_never_deadlocks(world, monkeypatch, caplog):
    """Opposite lock orders made one of the two a deadlock (a 500 for the person). Both are slowed
    down between their locks so they overlap; in one order they simply queue."""
    import time

    from grants.services import ledger

    award = _accepted_award_due_with_payee(world)
    SimulatedGateway(world["foundation"]).complete_onboarding(PayeeAccount.objects.get().stripe_account_id)
    real_lock_fund = ledger.lock_fund

    def slow_lock_fund(fund):
        time.sleep(0.3)
        return real_lock_fund(fund)

    monkeypatch.setattr(ledger, "lock_fund", slow_lock_fund)
    installment = award.installments.get()

    outcomes = race(
        lambda: payments.release_installment(installment, by=world["finance"]),
        lambda: awards.cancel_award(award, by=world["officer"], reason="The group closed"),
    )

    assert not [o for o in outcomes if isinstance(o, Exception) and "deadlock" in str(o)], outcomes
    assert "deadlock" not in caplog.text
    installment.refresh_from_db()
    # Either the payment went first (and was paid) or the cancellation did (and nothing left).
    assert installment.status in (InstallmentStatus.PAID, InstallmentStatus.CANCELLED), outcomes
    transfers = SimulatedStripeObject.objects.filter(kind="transfer").count()
    assert transfers == (1 if installment.status == InstallmentStatus.PAID else 0), outcomes
