"""Reconciling with Stripe: what finance sees when Stripe and the portal disagree."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from grants.models import Disbursement
from grants.payments.simulator import base as simulator
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import awards, installments, payments
from grants.services import reconciliation as rec
from tests.grants.money_fixtures import award_for, fund_with, usd

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(world, django_capture_on_commit_callbacks):
    """Two payments of one award released through Stripe and confirmed by its webhooks."""
    fund_with(world, 10000)
    schedule = [(datetime.date(2026, 2, 1), usd(600)), (datetime.date(2026, 2, 15), usd(400))]
    award = award_for(world, 1000, schedule=schedule)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=datetime.date(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(payments.payee_for(award).stripe_account_id)
    with django_capture_on_commit_callbacks(execute=True):
        results = payments.release_installments(list(award.installments.all()), by=world["finance"])
    assert all(result.ok for result in results)
    return award


def _today():
    today = timezone.localdate()
    return {"date_from": today, "date_to": today}


def test_a_clean_period_has_no_differences(world, paid, capsys):
    assert rec.reconcile(world["foundation"], **_today()) == []
    day = str(timezone.localdate())
    call_command("reconcile_stripe", "--foundation", "bay-area", "--from", day, "--to", day)
    assert "agree" in capsys.readouterr().out


def test_a_transfer_behind_our_back_and_an_amount_mismatch_are_listed(world, paid, capsys):
    payee = payments.payee_for(paid)
    secret = SimulatedGateway(world["foundation"], deliver=lambda delivery: None).create_transfer(
        amount=usd(75),
        destination=payee.stripe_account_id,
        transfer_group="",
        metadata={},
        idempotency_key="manual",
    )
    first = Disbursement.objects.get(installment__number=1)
    Disbursement.objects.filter(pk=first.pk).update(amount=usd(650))  # our record says otherwise

    differences = rec.reconcile(world["foundation"], **_today())

    assert {(d.kind, d.transfer_id, d.disbursement_id) for d in differences} == {
        (rec.UNKNOWN_AT_STRIPE, secret.id, None),
        (rec.AMOUNT_MISMATCH, first.stripe_transfer_id, first.pk),
    }
    day = str(timezone.localdate())
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile_stripe", "--foundation", "bay-area", "--from", day, "--to", day)
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert secret.id in out and first.stripe_transfer_id in out


def test_reversals_on_one_side_only_and_transfers_missing_at_stripe(world, paid, monkeypatch):
    monkeypatch.setattr(simulator, "deliver_after_commit", lambda delivery: None)  # the webhook never comes
    first, second = Disbursement.objects.order_by("installment__number")
    SimulatedGateway(world["foundation"]).reverse_transfer(
        transfer_id=first.stripe_transfer_id, amount=None, metadata={}, idempotency_key="r"
    )
    Disbursement.objects.filter(pk=second.pk).update(stripe_transfer_id="tr_nowhere")

    kinds = {(d.kind, d.disbursement_id) for d in rec.reconcile(world["foundation"], **_today())}

    assert kinds == {
        (rec.REVERSED_AT_STRIPE_ONLY, first.pk),
        (rec.MISSING_AT_STRIPE, second.pk),
        (rec.UNKNOWN_AT_STRIPE, None),  # the real transfer of the second payment
    }


def test_a_period_before_the_payments_is_clean(world, paid):
    assert (
        rec.reconcile(
            world["foundation"], date_from=datetime.date(2020, 1, 1), date_to=datetime.date(2020, 1, 31)
        )
        == []
    )
