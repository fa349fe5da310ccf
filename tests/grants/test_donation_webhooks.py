"""What Stripe reports about gifts: each payment recorded once, the ledger follows refunds and
disputes, monthly gifts renew without double counting, and anything that does not match is flagged."""

import json
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Donation,
    DonationStatus,
    EntryCause,
    JournalEntry,
    JournalLine,
    RecurringGiftStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments.credentials import credentials_for
from grants.payments.signing import sign_payload
from grants.payments.simulator import base as simulator
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import donations, ledger
from tests.factories import FundFactory

pytestmark = pytest.mark.django_db


def usd(value) -> Money:
    return Money(value, "USD")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fund(foundation):
    return FundFactory(foundation=foundation, name="Rapid Response Fund", fundraising_goal=usd(1000))


@pytest.fixture
def gateway(foundation):
    return SimulatedGateway(foundation)


def give(fund, amount="50", *, monthly=False, cover_fee=False, email="rosa@example.org", name="Rosa Díaz"):
    donation, _url = donations.start_donation(
        fund=fund,
        amount=usd(amount),
        monthly=monthly,
        cover_fee=cover_fee,
        anonymous=False,
        name=name,
        email=email,
        language="es",
        success_url="http://testserver/en/donate/thanks/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/en/donate/",
    )
    return donation


def pay(gateway, donation, capture):
    with capture(execute=True):
        session = gateway.complete_checkout(donation.checkout_session_id)
    donation.refresh_from_db()
    return session


def post_event(client, foundation, event: dict):
    """Deliver ``event`` to the platform endpoint, signed as Stripe would (a new delivery)."""
    payload = json.dumps(event).encode()
    signature = sign_payload(payload, credentials_for(foundation).webhook_secret)
    return client.post(
        reverse("stripe_webhook", kwargs={"foundation": foundation.slug}),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def copy_of(event: dict, **changes) -> dict:
    """The same event sent again under a new id (as a second delivery of the object would be)."""
    copy = json.loads(json.dumps(event))
    copy["id"] = f"evt_copy{time.time_ns()}"
    copy["data"]["object"].update(changes)
    return copy


def entries(donation):
    return JournalEntry.objects.filter(donation=donation).order_by("pk")


# --- A one-time gift ------------------------------------------------------------------------


def test_a_gift_is_recorded_once_however_often_checkout_completed_arrives(
    client, foundation, fund, gateway, django_capture_on_commit_callbacks, mailoutbox
):
    donation = give(fund)
    pay(gateway, donation, django_capture_on_commit_callbacks)

    assert donation.status == DonationStatus.COMPLETED
    assert donation.fee == usd("1.75")
    assert donation.receipt_number is not None
    (event,) = gateway.events("checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        gateway.redeliver(event["id"])
        response = post_event(client, foundation, copy_of(event))

    assert response.content == b"ignored"
    assert Donation.objects.filter(status=DonationStatus.COMPLETED).count() == 1
    assert entries(donation).count() == 1
    assert len([m for m in mailoutbox if "rosa@example.org" in m.to]) == 1


def test_the_ledger_books_the_gift_its_fee_and_what_the_fund_nets(
    fund, gateway, django_capture_on_commit_callbacks
):
    donation = give(fund)
    pay(gateway, donation, django_capture_on_commit_callbacks)

    (entry,) = entries(donation)
    assert entry.cause == EntryCause.DONATION
    assert entry.idempotency_key == f"donation:{donation.pk}:received"
    lines = {line.account.kind: line.amount for line in entry.lines.select_related("account")}
    assert lines == {
        AccountKind.PROCESSOR_CASH: usd("48.25"),
        AccountKind.FEES: usd("1.75"),
        AccountKind.DONATIONS: usd("-50.00"),
    }
    balances = ledger.balances(fund)
    assert (balances.donations, balances.fees, balances.cash) == (usd(50), usd("1.75"), usd("48.25"))


def test_covering_the_fee_charges_more_and_the_fund_nets_at_least_the_gift(
    fund, gateway, django_capture_on_commit_callbacks
):
    donation = give(fund, "50", cover_fee=True)
    pay(gateway, donation, django_capture_on_commit_callbacks)

    assert donation.gross == usd("51.81")
    balances = ledger.balances(fund)
    assert balances.donations == usd("51.81")
    assert balances.cash == usd("51.81") - donation.fee
    assert balances.cash >= usd(50)


def test_a_partial_then_a_full_refund_books_only_what_is_new(
    client, foundation, fund, gateway, django_capture_on_commit_callbacks
):
    donation = give(fund)
    pay(gateway, donation, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_refund(payment_intent=donation.payment_intent_id, amount=usd(20), metadata={},
                              idempotency_key="refund:1")  # fmt: skip
    donation.refresh_from_db()
    assert donation.status == DonationStatus.PARTIALLY_REFUNDED
    assert donation.amount_refunded == usd(20)
    assert ledger.balances(fund).refunds == usd(20)

    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_refund(payment_intent=donation.payment_intent_id, amount=None, metadata={},
                              idempotency_key="refund:2")  # fmt: skip
    donation.refresh_from_db()
    assert donation.status == DonationStatus.REFUNDED
    assert donation.amount_refunded == usd(50)
    balances = ledger.balances(fund)
    assert balances.refunds == usd(50)
    assert balances.cash == usd("48.25") - usd(50)  # Stripe keeps its fee
    assert donations.fund_progress(fund).raised == usd(0)

    # The first refund's event arriving late (as a new delivery) changes nothing.
    first = gateway.events("charge.refunded")[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, foundation, copy_of(first))
    assert response.content == b"ignored"
    assert ledger.balances(fund).refunds == usd(50)
    assert entries(donation).filter(cause=EntryCause.REFUND).count() == 2


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_dispute_takes_the_money_out_until_the_bank_decides(
    fund, gateway, django_capture_on_commit_callbacks, outcome
):
    donation = give(fund)
    pay(gateway, donation, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        gateway.open_dispute(donation.charge_id)
    donation.refresh_from_db()
    assert donation.status == DonationStatus.DISPUTED
    assert ledger.balances(fund).refunds == usd(50)
    assert donations.fund_progress(fund).raised == usd(0)

    with django_capture_on_commit_callbacks(execute=True):
        gateway.close_dispute(donation.charge_id, outcome)
    donation.refresh_from_db()
    balances = ledger.balances(fund)
    if outcome == "won":
        assert donation.status == DonationStatus.COMPLETED
        assert balances.refunds == usd(0)
        assert balances.cash == usd("48.25")
        assert donations.fund_progress(fund).raised == usd(50)
    else:
        assert donation.status == DonationStatus.LOST_DISPUTE
        assert balances.refunds == usd(50)
        assert entries(donation).filter(cause=EntryCause.DISPUTE).count() == 1


# --- Monthly gifts --------------------------------------------------------------------------


def test_monthly_gift_renewals_are_new_gifts_and_the_first_invoice_is_not_counted_twice(
    foundation, fund, gateway, django_capture_on_commit_callbacks, mailoutbox
):
    first = give(fund, "25", monthly=True, cover_fee=True)
    session = pay(gateway, first, django_capture_on_commit_callbacks)

    gift = first.recurring_gift
    gift.refresh_from_db()
    assert gift.status == RecurringGiftStatus.ACTIVE
    assert gift.stripe_subscription_id == session.subscription
    assert first.status == DonationStatus.COMPLETED
    assert first.invoice_id
    assert Donation.objects.filter(status=DonationStatus.COMPLETED).count() == 1

    for _month in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            gateway.renew_subscription(session.subscription)
    # Every invoice delivered again: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        for event in gateway.events("invoice.paid"):
            gateway.redeliver(event["id"])

    gifts = Donation.objects.filter(recurring_gift=gift).order_by("pk")
    assert [d.status for d in gifts] == [DonationStatus.COMPLETED] * 3
    assert len({d.payment_intent_id for d in gifts}) == 3
    assert all(d.gross == usd("26.06") and d.amount == usd(25) for d in gifts)
    assert len({d.receipt_number for d in gifts}) == 3
    assert JournalEntry.objects.filter(cause=EntryCause.DONATION).count() == 3
    assert ledger.balances(fund).donations == usd("78.18")
    assert donations.fund_progress(fund).donors == 1


def test_the_first_invoice_arriving_before_checkout_completed_still_counts_once(
    client, foundation, fund, monkeypatch, django_capture_on_commit_callbacks
):
    held = []
    monkeypatch.setattr(simulator, "deliver_after_commit", held.append)
    gateway = SimulatedGateway(foundation, deliver=held.append)
    donation = give(fund, "25", monthly=True)
    gateway.complete_checkout(donation.checkout_session_id)
    by_type = {d.event_type: d for d in held}

    with django_capture_on_commit_callbacks(execute=True):
        for event_type in ("invoice.paid", "checkout.session.completed"):
            delivery = by_type[event_type]
            client.post(
                reverse("stripe_webhook", kwargs={"foundation": foundation.slug}),
                data=delivery.payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=delivery.signature,
            )

    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    assert donation.recurring_gift.status == RecurringGiftStatus.ACTIVE
    assert Donation.objects.count() == 1
    assert JournalEntry.objects.filter(donation=donation).count() == 1


def test_a_cancelled_subscription_cancels_the_monthly_gift(fund, gateway, django_capture_on_commit_callbacks):
    donation = give(fund, "25", monthly=True)
    session = pay(gateway, donation, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        gateway.cancel_subscription(subscription_id=session.subscription)

    gift = donation.recurring_gift
    gift.refresh_from_db()
    assert gift.status == RecurringGiftStatus.CANCELLED
    assert gift.cancelled_at is not None
    assert (
        WebhookEvent.objects.get(type="customer.subscription.deleted").status == WebhookEventStatus.PROCESSED
    )


# --- What does not match --------------------------------------------------------------------


def test_an_amount_that_does_not_match_the_gift_is_flagged_and_nothing_is_applied(
    client, foundation, fund, monkeypatch, django_capture_on_commit_callbacks
):
    held = []
    gateway = SimulatedGateway(foundation, deliver=held.append)
    donation = give(fund)
    gateway.complete_checkout(donation.checkout_session_id)
    (delivery,) = held

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, foundation, copy_of(delivery.event, amount_total=500))

    assert response.content == b"flagged"
    donation.refresh_from_db()
    assert donation.status == DonationStatus.PENDING
    assert not JournalEntry.objects.exists()
    assert "amount" in WebhookEvent.objects.get().note


def test_a_gift_we_do_not_know_is_flagged(client, foundation, fund, django_capture_on_commit_callbacks):
    held = []
    gateway = SimulatedGateway(foundation, deliver=held.append)
    donation = give(fund)
    gateway.complete_checkout(donation.checkout_session_id)
    event = copy_of(held[0].event, metadata={"donation": "999999", "fund": str(fund.pk)}, id="cs_test_other")

    response = post_event(client, foundation, event)

    assert response.content == b"flagged"
    assert WebhookEvent.objects.get().note == "unknown donation"
    assert not JournalEntry.objects.exists()


def test_fund_balances_are_the_sum_of_gifts_refunds_and_fees_in_the_ledger(
    fund, gateway, django_capture_on_commit_callbacks
):
    gifts = [
        give(fund, amount, email=f"donor{i}@example.org") for i, amount in enumerate(["50", "100", "35.50"])
    ]
    for gift in gifts:
        pay(gateway, gift, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_refund(payment_intent=gifts[1].payment_intent_id, amount=usd(40), metadata={},
                              idempotency_key="refund:b")  # fmt: skip
        gateway.open_dispute(gifts[2].charge_id)

    for gift in gifts:
        gift.refresh_from_db()
    balances = ledger.balances(fund)
    assert balances.donations == sum((g.gross for g in gifts), usd(0)) == usd("185.50")
    assert balances.fees == sum((g.fee for g in gifts), usd(0))
    assert balances.refunds == usd(40) + usd("35.50")
    assert balances.cash == balances.donations - balances.fees - balances.refunds
    total = sum(JournalLine.objects.filter(account__fund=fund).values_list("amount", flat=True))
    assert total == 0
    progress = donations.fund_progress(fund)
    assert progress.raised == balances.donations - balances.refunds
    assert progress.donors == 3
