"""Stripe's webhooks: only signed, fresh events count; each counts once; order does not matter."""

import datetime
import json
import time

import pytest
from django.test import RequestFactory
from django.urls import reverse

from grants.models import (
    AccountKind,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments import webhooks
from grants.payments.credentials import credentials_for
from grants.payments.signing import sign_payload
from grants.payments.simulator import base as simulator
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import awards, installments, ledger, payments
from tests.factories import FoundationFactory
from tests.grants.money_fixtures import award_for, fund_with, usd

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def sent(monkeypatch):
    """Events the simulated Stripe emits, held back so each test delivers them itself."""
    held = []
    monkeypatch.setattr(simulator, "deliver_after_commit", held.append)
    return held


@pytest.fixture
def released(world, sent):
    """A $1,000 payment released to a ready account; Stripe's transfer.created not delivered yet."""
    fund_with(world, 10000)
    award = award_for(world, 1000)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    payee = payments.payee_for(award)
    SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id)
    payments.update_payee_status(payee, status="ready", requirements_due=[], event_created=1)
    disbursement = payments.release_installment(award.installments.get(), by=world["finance"])
    assert disbursement.status == DisbursementStatus.SUBMITTED
    sent.clear()
    return disbursement


def _event(world, type_="transfer.created"):
    return next(e for e in reversed(SimulatedGateway(world["foundation"]).events(type_)))


def post(client, event, *, slug="bay-area", connect=False, secret=None, timestamp=None, foundation=None):
    payload = json.dumps(event).encode()
    if secret is None:
        credentials = credentials_for(foundation)
        secret = credentials.connect_webhook_secret if connect else credentials.webhook_secret
    name = "stripe_connect_webhook" if connect else "stripe_webhook"
    return client.post(
        reverse(name, kwargs={"foundation": slug}),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, secret, timestamp),
    )


def paid_entries():
    return JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT)


def test_transfer_created_pays_and_a_replay_changes_nothing(world, client, released):
    event = _event(world)
    first = post(client, event, foundation=world["foundation"])
    replay = post(client, event, foundation=world["foundation"])

    assert first.status_code == replay.status_code == 200
    assert replay.content == b"already processed"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    released.refresh_from_db()
    assert released.status == DisbursementStatus.PAID
    assert released.installment.status == InstallmentStatus.PAID
    assert paid_entries().count() == 1


def test_bad_or_missing_signature_is_400_and_stores_nothing(world, client, released):
    event = _event(world)
    assert post(client, event, secret="whsec_wrong").status_code == 400
    url = reverse("stripe_webhook", kwargs={"foundation": "bay-area"})
    assert client.post(url, data=json.dumps(event), content_type="application/json").status_code == 400
    # A tampered body with the signature of the original.
    payload = json.dumps(event).encode()
    signature = sign_payload(payload, credentials_for(world["foundation"]).webhook_secret)
    tampered = payload.replace(b'"livemode": false', b'"livemode": true ')
    assert client.post(url, data=tampered, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature).status_code == 400  # fmt: skip
    assert not WebhookEvent.objects.exists()
    assert Disbursement.objects.get().status == DisbursementStatus.SUBMITTED


def test_a_stale_signature_is_refused(world, client, released):
    answer = post(client, _event(world), foundation=world["foundation"], timestamp=int(time.time()) - 301)
    assert answer.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_another_foundations_endpoint_refuses_this_foundations_signature(world, client, released):
    FoundationFactory(slug="river-valley")
    answer = post(client, _event(world), slug="river-valley", foundation=world["foundation"])
    assert answer.status_code == 400
    unknown = post(client, _event(world), slug="nowhere", foundation=world["foundation"])
    assert unknown.status_code == 404 and "Location" not in unknown  # a plain 404, no redirect
    direct = webhooks.platform_webhook(
        RequestFactory().post("/", data=b"{}", content_type="application/json"), foundation="nowhere"
    )
    assert direct.status_code == 404
    # The Connect secret does not open the platform endpoint either.
    connect_secret = credentials_for(world["foundation"]).connect_webhook_secret
    assert post(client, _event(world), secret=connect_secret).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_reversal_before_creation_ends_reversed_with_the_payment_netting_to_zero(
    world, client, released, sent
):
    gateway = SimulatedGateway(world["foundation"])
    gateway.reverse_transfer(transfer_id=released.stripe_transfer_id, amount=None, metadata={},
                             idempotency_key=f"reverse:{released.pk}")  # fmt: skip
    created, reversed_ = _event(world, "transfer.created"), _event(world, "transfer.reversed")

    assert post(client, reversed_, foundation=world["foundation"]).status_code == 200
    assert post(client, created, foundation=world["foundation"]).status_code == 200

    released.refresh_from_db()
    installment = released.installment
    assert released.status == DisbursementStatus.REVERSED
    assert released.amount_reversed == usd(1000)
    assert installment.status == InstallmentStatus.ON_HOLD
    assert installment.hold_reason == "payment reversed"
    assert WebhookEvent.objects.get(type="transfer.created").status == WebhookEventStatus.IGNORED
    assert (
        JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT_REVERSAL, disbursement=released).count()
        == 1
    )
    b = ledger.balances(world["fund"])
    assert (b.paid, b.outstanding, b.committed) == (usd(0), usd(1000), usd(1000))
    with pytest.raises(payments.PaymentRefused):
        installments.lift_hold(installment, by=world["finance"], today=D(2026, 3, 1))
        payments.release_installment(installment, by=world["finance"])


def test_reversal_after_payment_gives_the_money_back_to_the_award(world, client, released):
    post(client, _event(world), foundation=world["foundation"])
    SimulatedGateway(world["foundation"]).reverse_transfer(
        transfer_id=released.stripe_transfer_id, amount=None, metadata={}, idempotency_key="rev"
    )
    reversed_ = _event(world, "transfer.reversed")
    post(client, reversed_, foundation=world["foundation"])
    post(client, _event(world), foundation=world["foundation"])  # a late replay of the confirmation

    released.refresh_from_db()
    assert released.status == DisbursementStatus.REVERSED
    assert paid_entries().count() == 1
    reversal = JournalEntry.objects.get(cause=EntryCause.DISBURSEMENT_REVERSAL)
    assert {line.account.kind: line.amount for line in reversal.lines.all()} == {
        AccountKind.PROCESSOR_CASH: usd(1000),
        AccountKind.GRANTS_PAYABLE: usd(-1000),
    }
    assert ledger.balances(world["fund"]).paid == usd(0)


def test_livemode_mismatch_is_flagged_and_not_applied(world, client, released, settings):
    settings.STRIPE_LIVEMODE = True
    answer = post(client, _event(world), foundation=world["foundation"])

    assert answer.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == WebhookEventStatus.FLAGGED
    assert "livemode" in stored.note
    assert Disbursement.objects.get().status == DisbursementStatus.SUBMITTED
    assert not paid_entries().exists()


@pytest.mark.parametrize(
    "change",
    [{"amount": 100000000}, {"currency": "eur"}, {"destination": "acct_someoneelse"}],
    ids=["amount", "currency", "destination"],
)
def test_a_transfer_that_does_not_match_ours_is_flagged_and_not_applied(world, client, released, change):
    event = _event(world)
    event["id"] = "evt_forged"
    event["data"]["object"].update(change)
    answer = post(client, event, foundation=world["foundation"])

    assert answer.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEventStatus.FLAGGED
    assert Disbursement.objects.get().status == DisbursementStatus.SUBMITTED
    assert released.installment.status == InstallmentStatus.APPROVED
    assert not paid_entries().exists()


@pytest.mark.parametrize(
    ("type_", "status"),
    [
        ("payout.paid", WebhookEventStatus.IGNORED),  # a type the portal does not use
        ("checkout.session.completed", WebhookEventStatus.FLAGGED),  # a gift we have no record of
        # A refund of a payment not recorded yet waits for it (flagged after WEBHOOK_WAITING_MAX_DAYS).
        ("charge.refunded", WebhookEventStatus.WAITING),
    ],
)
def test_unknown_types_are_acknowledged_and_unknown_gifts_flagged(world, client, type_, status):
    event = {"id": f"evt_{type_}", "object": "event", "type": type_, "created": int(time.time()),
             "livemode": False, "data": {"object": {"id": "x"}}}  # fmt: skip
    assert post(client, event, foundation=world["foundation"]).status_code == 200
    assert WebhookEvent.objects.get().status == status


def test_account_updated_on_the_connect_endpoint(world, client, released):
    gateway = SimulatedGateway(world["foundation"])
    payee = released.payee
    gateway.complete_onboarding(payee.stripe_account_id, "restricted")
    event = _event(world, "account.updated")
    connect_secret = credentials_for(world["foundation"]).connect_webhook_secret
    assert post(client, event, secret=connect_secret).status_code == 400, (
        "the platform endpoint's secret differs"
    )
    platform = post(client, {**event, "id": "evt_on_platform"}, foundation=world["foundation"])
    assert platform.content == b"ignored", "an account's update counts only from the Connect endpoint"
    assert post(client, event, connect=True, foundation=world["foundation"]).status_code == 200
    payee.refresh_from_db()
    assert payee.payout_status == "restricted"
