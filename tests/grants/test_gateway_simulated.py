"""The simulated Stripe behaves like Stripe where the portal depends on it.

Idempotency keys, injected failures, signed webhook events of the right shape, what donors and
grantees do on Stripe's hosted pages, and those pages themselves.
"""

import datetime
import json

import pytest
import stripe
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from djmoney.money import Money

from grants.payments import delivery
from grants.payments.credentials import credentials_for
from grants.payments.gateway import PaymentError, get_gateway, payout_status_from_account_object
from grants.payments.signing import sign_payload
from grants.payments.simulator.gateway import FAILURE_KINDS, SimulatedGateway, processing_fee
from grants.payments.simulator.models import SimulatedIdempotencyKey, SimulatedStripeObject
from grants.payments.stripe_gateway import StripeGateway
from tests.factories import FoundationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """What the gateway delivered, in order (instead of posting to the webhook endpoints)."""
    return []


@pytest.fixture
def gateway(foundation, sent):
    return SimulatedGateway(foundation, deliver=sent.append)


@pytest.fixture
def grantee(gateway):
    account = gateway.create_connected_account(
        email="treasurer@riverside.example", metadata={"organization": "7"}, idempotency_key="org:7:account"
    )
    gateway.complete_onboarding(account.id, "complete")
    return account


def transfer(gateway, grantee, amount="250.00", key="disbursement:1", **extra):
    return gateway.create_transfer(
        amount=Money(amount, "USD"),
        destination=grantee.id,
        transfer_group="award:3",
        metadata={"disbursement": "1"},
        idempotency_key=key,
        **extra,
    )


def objects(kind):
    return SimulatedStripeObject.objects.filter(kind=kind)


def checkout(gateway, mode="payment", amount="50.00", key="donation:9"):
    return gateway.create_checkout_session(
        mode=mode,
        amount=Money(amount, "USD"),
        product_name="Rapid Response Fund",
        success_url="http://testserver/en/donate/thanks/?session={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/en/donate/",
        customer_email="donor@example.org",
        metadata={"donation": "9", "fund": "2"},
        idempotency_key=key,
    )


# --- Idempotency -----------------------------------------------------------------------------


def test_same_key_and_parameters_return_the_first_transfer_and_pay_once(gateway, grantee, sent):
    first = transfer(gateway, grantee)
    again = transfer(gateway, grantee)

    assert again == first
    assert first.amount == Money("250.00", "USD")
    assert first.destination == grantee.id
    assert first.metadata == {"disbursement": "1"}
    assert objects("transfer").count() == 1
    assert [event["type"] for event in gateway.events("transfer.created")] == ["transfer.created"]
    assert [d.event_type for d in sent].count("transfer.created") == 1


def test_same_key_with_another_amount_is_an_idempotency_conflict(gateway, grantee):
    transfer(gateway, grantee)

    with pytest.raises(PaymentError) as caught:
        transfer(gateway, grantee, amount="260.00")

    assert caught.value.kind == "idempotency_conflict"
    assert not caught.value.retryable
    assert objects("transfer").count() == 1


def test_idempotency_keys_belong_to_one_foundation(gateway, grantee, sent):
    transfer(gateway, grantee)
    other = SimulatedGateway(FoundationFactory(), deliver=sent.append)

    # The other foundation's platform has no such account: Stripe answers "no such destination".
    with pytest.raises(PaymentError) as caught:
        transfer(other, grantee)
    assert caught.value.kind == "invalid_request"


@pytest.mark.parametrize("kind", FAILURE_KINDS)
def test_an_injected_failure_raises_creates_nothing_and_a_retry_with_the_key_succeeds(
    gateway, grantee, foundation, kind
):
    events_before = len(gateway.events())
    SimulatedGateway.fail_next(foundation, kind, operation="create_transfer")

    with pytest.raises(PaymentError) as caught:
        transfer(gateway, grantee)

    assert caught.value.kind == kind
    assert caught.value.retryable == (kind in ("network", "rate_limit", "api"))
    assert str(caught.value.message)
    assert objects("transfer").count() == 0
    assert not SimulatedIdempotencyKey.objects.filter(key="disbursement:1").exists()
    assert len(gateway.events()) == events_before

    retried = transfer(gateway, grantee)
    assert objects("transfer").count() == 1
    assert transfer(gateway, grantee) == retried


def test_a_failure_for_another_operation_waits_for_it(gateway, grantee, foundation):
    SimulatedGateway.fail_next(foundation, "api", operation="create_refund", count=2)

    transfer(gateway, grantee)

    assert objects("failure").count() == 2


def test_a_consumed_failure_stays_consumed_when_the_caller_rolls_back(gateway, grantee, foundation):
    SimulatedGateway.fail_next(foundation, "network")
    with pytest.raises(PaymentError), transaction.atomic():
        transfer(gateway, grantee)

    # The caller's rollback restored the failure's row; it must not fail the retry again.
    assert transfer(gateway, grantee).amount == Money("250.00", "USD")


def test_amounts_go_in_minor_units_of_their_currency(gateway, grantee):
    yen = gateway.create_transfer(
        amount=Money("5000", "JPY"),
        destination=grantee.id,
        transfer_group="award:4",
        metadata={},
        idempotency_key="disbursement:2",
    )
    stored = SimulatedStripeObject.objects.get(id=yen.id).data
    assert (stored["amount"], stored["currency"]) == (5000, "jpy")
    assert yen.amount == Money("5000", "JPY")


# --- Webhook events and their signatures -----------------------------------------------------


def test_events_are_stripe_shaped_and_signed_with_the_platform_secret(
    gateway, grantee, foundation, sent, settings
):
    created = transfer(gateway, grantee)
    delivery_ = next(d for d in sent if d.event_type == "transfer.created")
    event = json.loads(delivery_.payload)

    assert event["object"] == "event"
    assert event["id"].startswith("evt_")
    assert event["api_version"] == settings.STRIPE_API_VERSION
    assert event["livemode"] is False
    assert "account" not in event
    assert event["request"]["idempotency_key"] == "disbursement:1"
    transfer_object = event["data"]["object"]
    assert transfer_object["id"] == created.id
    assert transfer_object["object"] == "transfer"
    assert (transfer_object["amount"], transfer_object["currency"]) == (25000, "usd")
    assert transfer_object["transfer_group"] == "award:3"
    assert transfer_object["metadata"] == {"disbursement": "1"}

    secret = credentials_for(foundation).webhook_secret
    assert delivery_.signature.startswith("t=") and ",v1=" in delivery_.signature
    assert stripe.WebhookSignature.verify_header(
        delivery_.payload, delivery_.signature, secret, tolerance=300
    )
    assert not delivery_.connect


def test_a_tampered_payload_or_another_secret_fails_verification(gateway, grantee, foundation, sent):
    transfer(gateway, grantee)
    delivery_ = sent[-1]
    secret = credentials_for(foundation).webhook_secret

    tampered = delivery_.payload.replace(b"25000", b"95000")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(tampered, delivery_.signature, secret, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            delivery_.payload,
            delivery_.signature,
            credentials_for(FoundationFactory()).webhook_secret,
            tolerance=300,
        )


def test_sign_payload_matches_stripe_and_old_timestamps_are_refused(foundation):
    payload, secret = b'{"id": "evt_1"}', "whsec_test"
    assert sign_payload(
        payload, secret, timestamp=1700000000
    ) == stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=1700000000)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload, sign_payload(payload, secret, timestamp=1700000000), secret, 300
        )


def test_simulated_secrets_are_derived_per_foundation_and_purpose(foundation, other_foundation):
    mine, theirs = credentials_for(foundation), credentials_for(other_foundation)
    assert mine.webhook_secret.startswith("whsec_sim_")
    assert len({mine.webhook_secret, mine.connect_webhook_secret, theirs.webhook_secret}) == 3
    assert credentials_for(foundation) == mine
    assert "whsec" not in repr(mine)


def test_onboarding_emits_a_connect_event_signed_with_the_connect_secret(gateway, foundation, sent):
    account = gateway.create_connected_account(email="a@example.org", metadata={}, idempotency_key="org:1")
    assert account.payout_status == "information_needed"
    assert sent == []  # creating the account is not onboarding

    gateway.complete_onboarding(account.id, "complete")

    (delivery_,) = sent
    event = json.loads(delivery_.payload)
    assert event["type"] == "account.updated"
    assert event["account"] == account.id
    assert delivery_.connect
    secret = credentials_for(foundation).connect_webhook_secret
    assert stripe.WebhookSignature.verify_header(
        delivery_.payload, delivery_.signature, secret, tolerance=300
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            delivery_.payload, delivery_.signature, credentials_for(foundation).webhook_secret, tolerance=300
        )
    assert payout_status_from_account_object(event["data"]["object"]) == "ready"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("complete", "ready"), ("information_needed", "information_needed"), ("restricted", "restricted")],
)
def test_onboarding_outcomes_give_the_payout_status(gateway, sent, outcome, status):
    account = gateway.create_connected_account(email="a@example.org", metadata={}, idempotency_key="org:1")

    updated = gateway.complete_onboarding(account.id, outcome)

    assert updated.payout_status == status
    assert gateway.retrieve_account(account.id).payout_status == status
    assert payout_status_from_account_object(json.loads(sent[-1].payload)["data"]["object"]) == status


def test_payout_status_of_raw_accounts():
    base = {"payouts_enabled": False, "details_submitted": True}
    rejected = {"payouts_enabled": True, "requirements": {"disabled_reason": "rejected.fraud"}}
    assert payout_status_from_account_object(rejected) == "restricted"
    assert payout_status_from_account_object(
        {**base, "requirements": {"past_due": ["external_account"]}}
    ) == ("restricted")
    assert payout_status_from_account_object({**base, "details_submitted": False}) == "information_needed"
    assert payout_status_from_account_object({"payouts_enabled": True, "requirements": {}}) == "ready"
    assert (
        payout_status_from_account_object({"payouts_enabled": True, "requirements": {"currently_due": ["x"]}})
        == "information_needed"
    )


def test_transfers_to_an_account_that_cannot_receive_them_are_refused(gateway):
    account = gateway.create_connected_account(email="a@example.org", metadata={}, idempotency_key="org:1")
    with pytest.raises(PaymentError) as caught:
        transfer(gateway, account)
    assert caught.value.kind == "invalid_request"


def test_reversals_update_the_transfer_and_emit_transfer_reversed(gateway, grantee, sent):
    created = transfer(gateway, grantee)

    partial = gateway.reverse_transfer(
        transfer_id=created.id,
        amount=Money("100.00", "USD"),
        metadata={"reason": "x"},
        idempotency_key="rev:1",
    )
    rest = gateway.reverse_transfer(transfer_id=created.id, amount=None, metadata={}, idempotency_key="rev:2")

    assert partial.amount == Money("100.00", "USD") and partial.transfer_id == created.id
    assert rest.amount == Money("150.00", "USD")
    assert partial.id.startswith("trr_")
    reversed_events = gateway.events("transfer.reversed")
    assert [e["data"]["object"]["amount_reversed"] for e in reversed_events] == [10000, 25000]
    assert [e["data"]["object"]["reversed"] for e in reversed_events] == [False, True]
    with pytest.raises(PaymentError) as caught:
        gateway.reverse_transfer(transfer_id=created.id, amount=None, metadata={}, idempotency_key="rev:3")
    assert caught.value.kind == "invalid_request"


def test_list_transfers_by_date_range_newest_first(gateway, grantee):
    with time_machine.travel(datetime.datetime(2026, 1, 10, 12, tzinfo=datetime.UTC), tick=False):
        january = transfer(gateway, grantee, key="d:1")
    with time_machine.travel(datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC), tick=False):
        february = transfer(gateway, grantee, key="d:2")
    with time_machine.travel(datetime.datetime(2026, 2, 20, 12, tzinfo=datetime.UTC), tick=False):
        later = transfer(gateway, grantee, key="d:3")

    found = gateway.list_transfers(
        created_from=datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC),
        created_to=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC),
    )

    assert [t.id for t in found] == [later.id, february.id]
    assert january.created == datetime.datetime(2026, 1, 10, 12, tzinfo=datetime.UTC)


# --- Donations -------------------------------------------------------------------------------


def test_one_time_checkout_completion_emits_the_session_with_metadata(gateway, sent):
    session = checkout(gateway)
    assert session.status == "open"
    assert session.url == reverse("simulated_checkout", args=[session.id])
    assert session.amount_total == Money("50.00", "USD")

    completed = gateway.complete_checkout(session.id)

    assert completed.status == "complete"
    assert completed.payment_intent.startswith("pi_")
    (event,) = [json.loads(d.payload) for d in sent]
    assert event["type"] == "checkout.session.completed"
    obj = event["data"]["object"]
    assert obj["metadata"] == {"donation": "9", "fund": "2"}
    assert (obj["payment_status"], obj["payment_intent"], obj["amount_total"]) == (
        "paid",
        completed.payment_intent,
        5000,
    )
    assert "_sim" not in obj
    charge = gateway.retrieve_charge(payment_intent=completed.payment_intent)
    # 2.9 % of 50.00 is 1.45, plus 0.30.
    assert (charge.amount, charge.fee, charge.net) == (
        Money("50.00", "USD"),
        Money("1.75", "USD"),
        Money("48.25", "USD"),
    )
    pi = SimulatedStripeObject.objects.get(id=completed.payment_intent).data
    assert pi["metadata"] == {"donation": "9", "fund": "2"}


def test_processing_fee_rule():
    assert processing_fee(5000, "usd") == 175
    assert processing_fee(1, "usd") == 1  # never more than the payment
    assert processing_fee(10000, "jpy") == 290  # no fixed part without minor units


def test_a_completed_session_cannot_be_paid_twice_and_the_decline_card_records_nothing(gateway, sent):
    session = checkout(gateway)
    with pytest.raises(PaymentError) as caught:
        gateway.complete_checkout(session.id, card_number="4000 0000 0000 0002")
    assert caught.value.kind == "card_declined"
    assert sent == [] and objects("charge").count() == 0

    gateway.complete_checkout(session.id)
    with pytest.raises(PaymentError):
        gateway.complete_checkout(session.id)
    assert objects("charge").count() == 1


def test_monthly_checkout_emits_subscription_and_invoice_events_and_renews(gateway, sent):
    session = checkout(gateway, mode="subscription")
    completed = gateway.complete_checkout(session.id)

    types = [d.event_type for d in sent]
    assert types == ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]
    subscription = gateway.events("customer.subscription.created")[0]["data"]["object"]
    assert subscription["id"] == completed.subscription
    assert subscription["metadata"] == {"donation": "9", "fund": "2"}
    invoice = gateway.events("invoice.paid")[0]["data"]["object"]
    details = invoice["parent"]["subscription_details"]
    assert details == {"subscription": completed.subscription, "metadata": {"donation": "9", "fund": "2"}}
    assert invoice["amount_paid"] == 5000
    assert gateway.retrieve_charge(invoice=invoice["id"]).fee == Money("1.75", "USD")

    renewal = gateway.renew_subscription(completed.subscription)
    assert renewal["billing_reason"] == "subscription_cycle"
    assert len(gateway.events("invoice.paid")) == 2

    gateway.cancel_subscription(subscription_id=completed.subscription)
    gateway.cancel_subscription(subscription_id=completed.subscription)  # a second cancel is harmless
    (deleted,) = gateway.events("customer.subscription.deleted")
    assert deleted["data"]["object"]["status"] == "canceled"
    with pytest.raises(PaymentError):
        gateway.renew_subscription(completed.subscription)


def test_refunds_emit_charge_refunded(gateway, sent):
    paid = gateway.complete_checkout(checkout(gateway).id)

    refund = gateway.create_refund(
        payment_intent=paid.payment_intent,
        amount=Money("20.00", "USD"),
        metadata={},
        idempotency_key="refund:1",
    )
    gateway.create_refund(
        payment_intent=paid.payment_intent, amount=None, metadata={}, idempotency_key="refund:2"
    )

    assert refund.amount == Money("20.00", "USD") and refund.status == "succeeded"
    charges = [e["data"]["object"] for e in gateway.events("charge.refunded")]
    assert [(c["amount_refunded"], c["refunded"]) for c in charges] == [(2000, False), (5000, True)]
    assert charges[0]["payment_intent"] == paid.payment_intent
    with pytest.raises(PaymentError) as caught:
        gateway.create_refund(
            payment_intent=paid.payment_intent, amount=None, metadata={}, idempotency_key="r:3"
        )
    assert caught.value.kind == "invalid_request"


def test_disputes_open_and_close(gateway, sent):
    paid = gateway.complete_checkout(checkout(gateway).id)
    charge_id = gateway.retrieve_charge(payment_intent=paid.payment_intent).id

    gateway.open_dispute(charge_id)
    gateway.close_dispute(charge_id, status="lost")

    created, closed = gateway.events("charge.dispute.created"), gateway.events("charge.dispute.closed")
    assert created[0]["data"]["object"]["charge"] == charge_id
    assert created[0]["data"]["object"]["payment_intent"] == paid.payment_intent
    assert closed[0]["data"]["object"]["status"] == "lost"


def test_redeliver_sends_the_same_event_again(gateway, grantee, sent):
    transfer(gateway, grantee)
    event_id = sent[-1].event_id

    again = gateway.redeliver(event_id)

    assert json.loads(again.payload)["id"] == event_id
    assert again.payload == sent[-2].payload
    assert sent[-1] is again


# --- Default delivery to the webhook endpoint ------------------------------------------------


def test_default_delivery_waits_for_commit_and_skips_missing_endpoints(
    foundation, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    calls = []
    monkeypatch.setattr(delivery, "dispatch", calls.append)
    gateway = SimulatedGateway(foundation)
    account = gateway.create_connected_account(email="a@example.org", metadata={}, idempotency_key="k")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        gateway.complete_onboarding(account.id)
        assert calls == []
    assert len(callbacks) == 1
    assert [c.event_type for c in calls] == ["account.updated"]

    monkeypatch.undo()
    # Until the webhook URLs exist, dispatch logs and moves on.
    try:
        reverse("stripe_webhook", kwargs={"foundation": foundation.slug})
    except Exception:
        assert delivery.dispatch(calls[0]) is None
        assert "not delivered" in caplog.text


def test_dispatch_posts_the_signed_body_to_the_resolved_view(foundation, sent, monkeypatch):
    seen = {}

    def view(request, foundation):
        seen.update(body=request.body, signature=request.headers["Stripe-Signature"], foundation=foundation)
        return HttpResponse(status=200)

    class Match:
        func, args, kwargs = staticmethod(view), (), {"foundation": foundation.slug}

    monkeypatch.setattr(delivery, "reverse", lambda name, kwargs: f"/webhooks/{name}/{kwargs['foundation']}/")
    monkeypatch.setattr(delivery, "resolve", lambda path: Match)
    gateway = SimulatedGateway(foundation, deliver=sent.append)
    gateway.create_connected_account(email="a@example.org", metadata={}, idempotency_key="k")
    account = gateway.create_connected_account(email="b@example.org", metadata={}, idempotency_key="k2")
    gateway.complete_onboarding(account.id)

    assert delivery.dispatch(sent[0]) == 200
    assert seen["body"] == sent[0].payload and seen["signature"] == sent[0].signature
    assert delivery.webhook_path(sent[0]) == f"/webhooks/stripe_connect_webhook/{foundation.slug}/"


# --- Choosing the gateway --------------------------------------------------------------------


def test_get_gateway_follows_the_setting(foundation, settings, monkeypatch):
    assert isinstance(get_gateway(foundation), SimulatedGateway)

    settings.STRIPE_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = ""
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="STRIPE_SECRET_KEY_"):
        get_gateway(foundation)
    suffix = foundation.slug.upper().replace("-", "_")
    monkeypatch.setenv(f"STRIPE_SECRET_KEY_{suffix}", "sk_test_123")
    monkeypatch.setenv(f"STRIPE_WEBHOOK_SECRET_{suffix}", "whsec_1")
    monkeypatch.setenv(f"STRIPE_CONNECT_WEBHOOK_SECRET_{suffix}", "whsec_2")
    assert isinstance(get_gateway(foundation), StripeGateway)
    assert credentials_for(foundation).connect_webhook_secret == "whsec_2"
    # A single-foundation install sets the un-suffixed variables only.
    monkeypatch.delenv(f"STRIPE_SECRET_KEY_{suffix}")
    settings.STRIPE_SECRET_KEY = "sk_test_shared"
    assert credentials_for(foundation).secret_key == "sk_test_shared"

    settings.STRIPE_GATEWAY = "paypal"
    with pytest.raises(ImproperlyConfigured):
        get_gateway(foundation)


# --- Hosted pages ----------------------------------------------------------------------------


def test_onboarding_page_completes_and_returns(client, gateway, sent):
    account = gateway.create_connected_account(email="t@riverside.example", metadata={}, idempotency_key="k")
    url = gateway.create_onboarding_link(
        account_id=account.id, refresh_url="/en/payouts/refresh/", return_url="http://testserver/en/payouts/"
    )

    page = client.get(url)
    assert page.status_code == 200
    assert "Simulated payment processor — no real money moves" in page.text
    assert "t@riverside.example" in page.text
    assert "csrfmiddlewaretoken" in page.text

    response = client.post(url, {"outcome": "complete"})
    assert response.status_code == 302 and response.url == "http://testserver/en/payouts/"
    assert gateway.retrieve_account(account.id).payout_status == "ready"


def test_onboarding_page_refuses_to_send_people_to_another_site(client, gateway):
    account = gateway.create_connected_account(email="t@example.org", metadata={}, idempotency_key="k")
    url = gateway.create_onboarding_link(
        account_id=account.id, refresh_url="/", return_url="https://evil.example/phish"
    )

    response = client.post(url, {"outcome": "restricted"})

    assert response.url == "/"
    assert gateway.retrieve_account(account.id).payout_status == "restricted"


def test_checkout_page_pays_and_redirects_to_success(client, gateway, sent):
    session = checkout(gateway)

    page = client.get(session.url)
    assert page.status_code == 200
    assert "$50.00" in page.text and "Rapid Response Fund" in page.text and "One-time" in page.text
    assert "4242 4242 4242 4242" in page.text

    response = client.post(session.url, {"card_number": "4242 4242 4242 4242", "pay": ""})
    assert response.status_code == 302
    assert response.url == f"http://testserver/en/donate/thanks/?session={session.id}"
    # The page's own gateway delivers to the webhook endpoint; the stored events show what it sent.
    assert [e["type"] for e in gateway.events()] == ["checkout.session.completed"]


def test_checkout_page_declined_card_shows_error_and_records_nothing(client, gateway, sent):
    session = checkout(gateway, mode="subscription")
    assert "Monthly" in client.get(session.url).text

    response = client.post(session.url, {"card_number": "4000 0000 0000 0002", "pay": ""})

    assert response.status_code == 200
    assert "Your card was declined." in response.text
    assert "4000 0000 0000 0002" in response.text  # what was typed is kept
    assert gateway.events() == [] and objects("charge").count() == 0


def test_checkout_page_cancel_goes_back(client, gateway, sent):
    session = checkout(gateway)

    response = client.post(session.url, {"cancel": "1"})

    assert response.url == "http://testserver/en/donate/"
    assert gateway.events() == []


def test_hosted_pages_do_not_exist_with_real_stripe(client, gateway, settings):
    session = checkout(gateway)
    settings.STRIPE_GATEWAY = "stripe"

    # (LocaleMiddleware first tries the language-prefixed path, which is not found either.)
    assert client.get(session.url, follow=True).status_code == 404
    assert client.post(session.url, {"pay": ""}, follow=True).status_code == 404
    assert gateway.events() == []


def test_unknown_ids_are_404(client):
    assert client.get(reverse("simulated_checkout", args=["cs_test_nope"]), follow=True).status_code == 404
    assert client.get(reverse("simulated_onboarding", args=["acct_nope"]), follow=True).status_code == 404
