"""A payment never goes out twice, whatever Stripe answers.

Stripe's documented behaviour (docs.stripe.com/api/idempotent_requests, /error-low-level): a
timeout or a dropped connection says nothing about whether the transfer was made; a 5xx may come
*after* Stripe made it, and Stripe then replays the 5xx to the same key for 24 hours; a 409 means
the first request with the key is still running; after 24 hours Stripe forgets the key and would
make a second transfer for it. These tests make the simulated Stripe do exactly that.
"""

import datetime
import json

import pytest
import time_machine
from django.utils import timezone

from grants.models import (
    Disbursement,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    PayeeAccount,
    PayoutStatus,
)
from grants.payments.gateway import PaymentError
from grants.payments.simulator import base as simulated
from grants.payments.simulator.gateway import SimulatedGateway
from grants.payments.simulator.models import SimulatedIdempotencyKey, SimulatedStripeObject
from grants.services import awards, disbursements, installments, ledger, payments, payouts
from grants.services import reconciliation as rec
from tests.grants.money_fixtures import award_for, fund_with

pytestmark = pytest.mark.django_db
D = datetime.date
NOW = datetime.timedelta(0)


@pytest.fixture
def held(monkeypatch):
    """Stripe's events, held back: each test decides when (and whether) they arrive."""
    events = []
    monkeypatch.setattr(simulated, "deliver_after_commit", events.append)
    return events


@pytest.fixture
def due(world, held, django_capture_on_commit_callbacks):
    """A $920 payment due on an accepted award; the grantee's Stripe account ready."""
    fund_with(world, 10000)
    award = award_for(world, 920)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    payee = PayeeAccount.objects.get()
    SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id, "complete")
    payee.payout_status = PayoutStatus.READY
    payee.save(update_fields=["payout_status"])
    held.clear()
    return award.installments.get()


def _transfers():
    return SimulatedStripeObject.objects.filter(kind="transfer")


def _deliver(world, held, client):
    """Deliver every held event to the real endpoint, as Stripe would."""
    for delivery in list(held):
        response = client.post(
            f"/stripe/webhooks/{delivery.foundation_slug}/{'connect/' if delivery.connect else ''}",
            data=delivery.payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=delivery.signature,
        )
        assert response.status_code == 200
    held.clear()


def _stripe_does_the_work_then(monkeypatch, kind):
    """Stripe makes the transfer, then the caller gets ``kind`` instead of the answer."""
    real = SimulatedGateway.create_transfer

    def create_then_fail(self, **params):
        real(self, **params)
        raise PaymentError(kind)

    monkeypatch.setattr(SimulatedGateway, "create_transfer", create_then_fail)
    return lambda: monkeypatch.setattr(SimulatedGateway, "create_transfer", real)


def _paid_out_total():
    return sum(t.data["amount"] for t in _transfers())


@pytest.mark.parametrize("kind", ["api", "network", "conflict"])
def test_an_error_after_stripe_made_the_transfer_never_pays_twice(
    world, due, held, client, monkeypatch, kind
):
    stripe_answers_again = _stripe_does_the_work_then(monkeypatch, kind)
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.UNKNOWN
    assert disbursement.key_generation == 0

    _deliver(world, held, client)  # Stripe's transfer.created arrives

    disbursement.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    due.refresh_from_db()
    assert due.status == InstallmentStatus.PAID
    stripe_answers_again()
    # A second officer releases again: nothing more leaves.
    payments.release_installment(due, by=world["finance2"])
    assert _transfers().count() == 1
    assert _paid_out_total() == 92000
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1


def test_a_timeout_without_any_event_is_settled_by_the_sweep(world, due, held, monkeypatch):
    stripe_answers_again = _stripe_does_the_work_then(monkeypatch, "network")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    stripe_answers_again()
    held.clear()  # the webhook never arrives (misconfigured endpoint)
    fund = due.award.fund
    assert ledger.balances(fund).paid.amount == 0

    counts = payouts.settle_open_disbursements(older_than=NOW)

    assert counts == {DisbursementStatus.PAID: 1}
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.stripe_transfer_id == _transfers().get().id
    assert ledger.balances(fund).paid.amount == 920
    assert _transfers().count() == 1


def test_a_5xx_stripe_replays_is_settled_by_looking_the_transfer_up_not_by_a_new_key(
    world, due, held, monkeypatch
):
    """Stripe saved the 500 for the key: asking again with it answers 500 again. Only the lookup
    by transfer group tells that the transfer exists."""
    _stripe_does_the_work_then(monkeypatch, "api")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    held.clear()

    # While the 500 is replayed, the sweep's lookup finds the transfer before any new request.
    counts = payouts.settle_open_disbursements(older_than=NOW)

    assert counts == {DisbursementStatus.PAID: 1}
    assert _transfers().count() == 1
    assert Disbursement.objects.get().key_generation == 0


def test_after_stripe_forgot_the_key_the_sweep_still_does_not_pay_again(world, due, held, monkeypatch):
    stripe_answers_again = _stripe_does_the_work_then(monkeypatch, "network")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    stripe_answers_again()
    held.clear()
    SimulatedIdempotencyKey.objects.all().delete()  # 24 hours later Stripe no longer knows the key

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        payouts.settle_open_disbursements()

    assert _transfers().count() == 1
    assert Disbursement.objects.get().status == DisbursementStatus.PAID


def test_an_unknown_outcome_with_nothing_at_stripe_is_asked_again_with_the_same_key(world, due, held):
    SimulatedGateway.fail_next(world["foundation"], "network", operation="create_transfer")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    assert not _transfers().exists()

    payouts.settle_open_disbursements(older_than=NOW)

    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.SUBMITTED
    assert disbursement.key_generation == 0
    assert SimulatedIdempotencyKey.objects.filter(key=f"disbursement:{disbursement.pk}").count() == 1
    assert _transfers().count() == 1


def test_the_sweep_leaves_recent_payments_to_stripe(world, due, held):
    SimulatedGateway.fail_next(world["foundation"], "network", operation="create_transfer")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])

    assert payouts.settle_open_disbursements() == {}
    assert Disbursement.objects.get().status == DisbursementStatus.UNKNOWN


def test_a_409_while_the_first_request_runs_is_settled_once_stripe_finishes(world, due, held, monkeypatch):
    real = SimulatedGateway.create_transfer
    first_request = {}

    def still_running(self, **params):
        first_request.update(params)
        raise PaymentError("conflict")

    monkeypatch.setattr(SimulatedGateway, "create_transfer", still_running)
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    with pytest.raises(PaymentError):  # a second click while Stripe still works: no new key
        payments.release_installment(due, by=world["finance2"])
    assert Disbursement.objects.get().key_generation == 0
    monkeypatch.setattr(SimulatedGateway, "create_transfer", real)
    real(SimulatedGateway(world["foundation"]), **first_request)  # Stripe's first request completes

    payouts.settle_open_disbursements(older_than=NOW)

    assert _transfers().count() == 1
    assert Disbursement.objects.get().status == DisbursementStatus.PAID


def test_stripe_confirming_a_payment_we_had_as_failed_wins(world, due, held, client):
    """A refusal we were told of, yet Stripe made the transfer with that key: Stripe's word wins."""
    SimulatedGateway.fail_next(world["foundation"], "insufficient_balance", operation="create_transfer")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.FAILED
    SimulatedGateway(world["foundation"]).create_transfer(
        amount=disbursement.amount,
        destination=disbursement.payee.stripe_account_id,
        transfer_group=disbursement.transfer_group,
        metadata=disbursements.metadata_for(disbursement),
        idempotency_key=f"disbursement:{disbursement.pk}",
    )

    _deliver(world, held, client)

    disbursement.refresh_from_db()
    due.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    assert due.status == InstallmentStatus.PAID
    payments.release_installment(due, by=world["finance2"])
    assert _transfers().count() == 1


def test_a_second_transfer_for_one_payment_is_flagged_and_reconciled(world, due, held, client):
    payments.release_installment(due, by=world["finance"])
    _deliver(world, held, client)
    disbursement = Disbursement.objects.get()
    # Stripe made a second transfer naming the same payment (a request with a forgotten key).
    SimulatedGateway(world["foundation"]).create_transfer(
        amount=disbursement.amount,
        destination=disbursement.payee.stripe_account_id,
        transfer_group=disbursement.transfer_group,
        metadata=disbursements.metadata_for(disbursement),
        idempotency_key="forgotten-key",
    )
    _deliver(world, held, client)

    flagged = world["foundation"].webhook_events.filter(type="transfer.created", status="flagged")
    assert flagged.count() == 1 and "second transfer" in flagged.get().note
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1
    today = timezone.localdate()
    differences = rec.reconcile(world["foundation"], date_from=today, date_to=today)
    assert [d.kind for d in differences] == [rec.SECOND_TRANSFER]
    assert differences[0].disbursement_id == disbursement.pk


def test_reconciliation_reports_a_payment_whose_outcome_is_unknown(world, due, held):
    SimulatedGateway.fail_next(world["foundation"], "network", operation="create_transfer")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    today = timezone.localdate()
    differences = rec.reconcile(world["foundation"], date_from=today, date_to=today)
    assert [d.kind for d in differences] == [rec.OUTCOME_UNKNOWN]


def test_finance_can_ask_stripe_from_the_payment_page(world, due, held, monkeypatch, client):
    _stripe_does_the_work_then(monkeypatch, "api")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    held.clear()
    disbursement = Disbursement.objects.get()
    page = f"/admin/payments/disbursements/{disbursement.pk}/"
    client.force_login(world["finance"])
    assert "Check with Stripe" in client.get(page).content.decode()

    response = client.post(f"{page}check/")

    assert response.status_code == 302
    disbursement.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    assert _transfers().count() == 1


# --- Events Stripe sends about transfers and accounts ------------------------------------------


def _event_of(world, type_, obj, *, account=None, created=None):
    """An event shaped like Stripe's (docs.stripe.com/api/events/object)."""
    event = {
        "id": f"evt_{type_.replace('.', '_')}_{obj.get('id', 'x')}_{created or 0}",
        "object": "event",
        "api_version": "2025-10-29.clover",
        "created": created or int(timezone.now().timestamp()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    if account:
        event["account"] = account
    return event


def _post(client, world, event, *, connect=False):
    from grants.payments.credentials import credentials_for
    from grants.payments.signing import sign_payload

    credentials = credentials_for(world["foundation"])
    payload = json.dumps(event).encode()
    secret = credentials.connect_webhook_secret if connect else credentials.webhook_secret
    return client.post(
        f"/stripe/webhooks/{world['foundation'].slug}/{'connect/' if connect else ''}",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, secret),
    )


def test_transfer_updated_confirms_a_payment_whose_created_event_was_lost(
    world, due, held, client, monkeypatch
):
    restore = _stripe_does_the_work_then(monkeypatch, "network")
    with pytest.raises(PaymentError):
        payments.release_installment(due, by=world["finance"])
    restore()
    transfer = _transfers().get().data
    held.clear()  # transfer.created never arrives

    response = _post(client, world, _event_of(world, "transfer.updated", {**transfer, "description": "x"}))

    assert response.content == b"processed"
    assert Disbursement.objects.get().status == DisbursementStatus.PAID
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1
    # The same news again changes nothing.
    again = _post(client, world, _event_of(world, "transfer.updated", transfer, created=1))
    assert again.content == b"ignored"


def test_transfer_updated_with_a_reversal_returns_the_money_once(world, due, held, client):
    payments.release_installment(due, by=world["finance"])
    _deliver(world, held, client)
    transfer = _transfers().get().data
    reversed_half = {**transfer, "amount_reversed": transfer["amount"] // 2}

    first = _post(client, world, _event_of(world, "transfer.updated", reversed_half, created=1))
    again = _post(client, world, _event_of(world, "transfer.updated", reversed_half, created=2))

    assert (first.content, again.content) == (b"processed", b"ignored")
    assert ledger.balances(due.award.fund).paid.amount == 460
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT_REVERSAL).count() == 1


@pytest.mark.parametrize(
    ("capability_status", "payout_status"),
    [("inactive", PayoutStatus.INFORMATION_NEEDED), ("disabled", PayoutStatus.RESTRICTED)],
)
def test_stripe_turning_transfers_off_stops_releases_before_stripe_is_asked(
    world, due, held, client, capability_status, payout_status
):
    payee = PayeeAccount.objects.get()
    capability = {
        "id": "transfers",
        "object": "capability",
        "account": payee.stripe_account_id,
        "requested": True,
        "status": capability_status,
        "requirements": {"currently_due": [], "past_due": [], "disabled_reason": "requirements.past_due"},
    }
    event = _event_of(world, "capability.updated", capability, account=payee.stripe_account_id)
    event["created"] = payee.status_event_created + 10

    assert _post(client, world, event, connect=True).content == b"processed"

    payee.refresh_from_db()
    assert payee.payout_status == payout_status
    with pytest.raises(payments.PaymentRefused):
        payments.release_installment(due, by=world["finance"])
    assert not _transfers().exists()


def test_a_capability_event_about_another_account_or_capability_changes_nothing(world, due, client):
    payee = PayeeAccount.objects.get()
    card = {
        "id": "card_payments",
        "object": "capability",
        "account": payee.stripe_account_id,
        "status": "inactive",
    }
    event = _event_of(world, "capability.updated", card, account=payee.stripe_account_id)
    assert _post(client, world, event, connect=True).content == b"ignored"
    payee.refresh_from_db()
    assert payee.payout_status == PayoutStatus.READY
