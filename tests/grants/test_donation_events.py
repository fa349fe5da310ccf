"""Every Stripe event a foundation's account sends about gifts ends applied, ignored with a reason,
or flagged — never stuck — and finance can re-apply a flagged one.

Events are built from Stripe's own example objects (``tests.grants.stripe_shapes``) and posted to
the real endpoint with a valid signature; the gateway's charge look-up answers with Stripe's
charge and balance transaction shapes (settlement currency, exchange rate and all).
"""

import ast
import json
import pathlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from grants import tasks
from grants.models import (
    AccountKind,
    ActivityEntry,
    Donation,
    DonationStatus,
    EntryCause,
    JournalEntry,
    RecurringGiftStatus,
    Role,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.money import to_minor_units
from grants.payments import webhooks
from grants.payments.credentials import credentials_for
from grants.payments.gateway import PaymentError, charge_from_json
from grants.payments.signing import sign_payload
from grants.services import donation_events, donations, ledger
from tests.factories import FoundationFactory, FundFactory
from tests.grants import stripe_shapes as shapes
from tests.grants.money_fixtures import staff
from tests.grants.test_admin_payments import not_found
from tests.grants.test_gateway_stripe import make_gateway

pytestmark = pytest.mark.django_db
S = WebhookEventStatus


def usd(value) -> Money:
    return Money(value, "USD")


def eur(value) -> Money:
    return Money(value, "EUR")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class FakeStripe:
    """The gateway's charge look-up, answering like Stripe from objects the test registered."""

    def __init__(self):
        self.by_intent, self.by_invoice, self.refusal = {}, {}, None

    def add(self, charge: dict, txn: dict, *, invoice: str = "") -> None:
        found = charge_from_json(charge, txn)
        self.by_intent[charge["payment_intent"]] = found
        if invoice:
            self.by_invoice[invoice] = found

    def retrieve_charge(self, *, payment_intent=None, invoice=None):
        if self.refusal is not None:
            raise self.refusal
        if payment_intent:
            return self.by_intent[payment_intent]
        if invoice not in self.by_invoice:
            # What StripeGateway says when the invoice's payments hold no payment intent.
            raise PaymentError("invalid_request", code="no_payment_intent")
        return self.by_invoice[invoice]


@pytest.fixture
def stripe(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(donation_events, "get_gateway", lambda foundation: fake)
    return fake


@pytest.fixture
def fund(foundation):
    return FundFactory(foundation=foundation, name="Rapid Response Fund", fundraising_goal=usd(1000))


@pytest.fixture
def euro_fund(foundation):
    return FundFactory(
        foundation=foundation, name="Fondo Europeo", currency="EUR", fundraising_goal=eur(1000)
    )


def give(fund, amount="50", *, monthly=False, language="es") -> Donation:
    donation, _url = donations.start_donation(
        fund=fund, amount=Money(amount, fund.currency), monthly=monthly, cover_fee=False, anonymous=False,
        name="Rosa Díaz", email="rosa@example.org", language=language,
        success_url="http://testserver/en/donate/thanks/", cancel_url="http://testserver/en/donate/",
    )  # fmt: skip
    return donation


def post(client, foundation, event: dict):
    payload = json.dumps(event).encode()
    return client.post(
        reverse("stripe_webhook", kwargs={"foundation": foundation.slug}),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, credentials_for(foundation).webhook_secret),
    )


def stored(event: dict) -> WebhookEvent:
    return WebhookEvent.objects.get(event_id=event["id"])


def session_of(donation: Donation, **overrides) -> dict:
    minor = to_minor_units(donation.gross)
    fields = {
        "id": donation.checkout_session_id, "amount_total": minor, "amount_subtotal": minor,
        "currency": str(donation.gross.currency).lower(), "payment_intent": f"pi_{donation.pk}",
        "metadata": {"donation": str(donation.pk), "fund": str(donation.fund_id)},
    }  # fmt: skip
    return shapes.checkout_session(**{**fields, **overrides})


def charge_of(donation: Donation, stripe: FakeStripe, *, txn=None, invoice="", **overrides) -> dict:
    """Register the charge Stripe made for ``donation`` (fee 3.5% in its currency unless ``txn``)."""
    minor = to_minor_units(donation.gross)
    fields = {
        "id": f"ch_{donation.pk}", "payment_intent": f"pi_{donation.pk}", "amount": minor,
        "amount_captured": minor, "currency": str(donation.gross.currency).lower(),
        "balance_transaction": f"txn_{donation.pk}", "metadata": {"donation": str(donation.pk)},
    }  # fmt: skip
    charge = shapes.charge(**{**fields, **overrides})
    if txn is None:
        fee = round(charge["amount"] * 0.035)
        txn = shapes.balance_transaction(id=f"txn_{donation.pk}", amount=charge["amount"], fee=fee,
                                         net=charge["amount"] - fee, currency=charge["currency"],
                                         source=charge["id"])  # fmt: skip
    stripe.add(charge, txn, invoice=invoice)
    return charge


def pay(client, foundation, donation, stripe, callbacks) -> dict:
    charge = charge_of(donation, stripe)
    with callbacks(execute=True):
        post(client, foundation, shapes.event("checkout.session.completed", session_of(donation)))
    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    return charge


def entries(donation, cause=None):
    found = JournalEntry.objects.filter(donation=donation)
    return found.filter(cause=cause) if cause else found


# --- Bank debits: Checkout completes unpaid --------------------------------------------------


def test_a_bank_debit_is_booked_and_receipted_only_when_stripe_says_it_succeeded(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks, mailoutbox
):
    donation = give(fund)
    charge_of(donation, stripe)
    unpaid = session_of(donation, payment_status="unpaid", payment_method_types=["us_bank_account"])
    with django_capture_on_commit_callbacks(execute=True):
        completed = shapes.event("checkout.session.completed", unpaid)
        post(client, foundation, completed)

    donation.refresh_from_db()
    assert donation.status == DonationStatus.PENDING
    assert not entries(donation).exists() and mailoutbox == []
    assert stored(completed).status == S.PROCESSED and "bank debit" in stored(completed).note

    with django_capture_on_commit_callbacks(execute=True):
        succeeded = shapes.event("checkout.session.async_payment_succeeded", session_of(donation))
        post(client, foundation, succeeded)

    donation.refresh_from_db()
    assert stored(succeeded).status == S.PROCESSED
    assert donation.status == DonationStatus.COMPLETED
    assert entries(donation, EntryCause.DONATION).count() == 1
    assert donation.receipt_number is not None
    assert [m.to for m in mailoutbox] == [["rosa@example.org"]]


def test_a_failed_bank_debit_marks_the_gift_failed_with_the_reason(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks, mailoutbox
):
    donation = give(fund)
    post(
        client,
        foundation,
        shapes.event("checkout.session.completed", session_of(donation, payment_status="unpaid")),
    )
    failed = shapes.event(
        "checkout.session.async_payment_failed", session_of(donation, payment_status="unpaid")
    )

    assert post(client, foundation, failed).content == b"processed"

    donation.refresh_from_db()
    assert donation.status == DonationStatus.FAILED
    assert "bank debit" in donation.failure_reason
    client.force_login(staff(foundation, Role.FINANCE_OFFICER))
    page = client.get(reverse("donations_admin:donation", args=[donation.pk])).content.decode()
    assert "Payment failed" in page and donation.failure_reason in page
    assert not entries(donation).exists() and mailoutbox == []
    assert donations.fund_progress(fund).raised == usd(0)


def test_an_expired_checkout_session_leaves_the_gift_not_completed(client, foundation, fund, stripe):
    one_time, monthly = give(fund), give(fund, "25", monthly=True)

    for donation in (one_time, monthly):
        expired = session_of(donation, status="expired", payment_status="unpaid", payment_intent=None)
        assert (
            post(client, foundation, shapes.event("checkout.session.expired", expired)).content
            == b"processed"
        )

    for donation in (one_time, monthly):
        donation.refresh_from_db()
        assert donation.status == DonationStatus.EXPIRED
    monthly.recurring_gift.refresh_from_db()
    assert monthly.recurring_gift.status == RecurringGiftStatus.CANCELLED


# --- Disputes: inquiries take no money; withdrawals and reinstatements count once ------------


def test_a_dispute_inquiry_moves_no_money(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks
):
    donation = give(fund)
    charge = pay(client, foundation, donation, stripe, django_capture_on_commit_callbacks)
    inquiry = shapes.dispute(id="dp_inquiry", charge=charge["id"], payment_intent=charge["payment_intent"],
                             amount=charge["amount"])  # fmt: skip

    created = shapes.event("charge.dispute.created", inquiry)
    closed = shapes.event("charge.dispute.closed", {**inquiry, "status": "warning_closed"})
    for event in (created, closed):
        post(client, foundation, event)
        assert stored(event).status == S.PROCESSED, stored(event).note

    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    assert not entries(donation, EntryCause.DISPUTE).exists()
    assert ledger.balances(fund).refunds == usd(0)
    assert donations.fund_progress(fund).raised == usd(50)


@pytest.mark.parametrize(
    "order",
    [
        ("created", "funds_withdrawn", "funds_reinstated", "closed"),
        ("funds_withdrawn", "closed", "created", "funds_reinstated"),
        ("funds_reinstated", "closed", "funds_withdrawn", "created"),
    ],
)
def test_a_won_dispute_books_out_and_back_once_whatever_the_order(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks, order
):
    donation = give(fund)
    charge = pay(client, foundation, donation, stripe, django_capture_on_commit_callbacks)
    base = shapes.dispute(id="dp_won", charge=charge["id"], payment_intent=charge["payment_intent"],
                          amount=charge["amount"], reason="fraudulent")  # fmt: skip
    status = {"created": "needs_response", "funds_withdrawn": "under_review", "funds_reinstated": "won",
              "closed": "won"}  # fmt: skip

    for name in order:
        event = shapes.event(f"charge.dispute.{name}", {**base, "status": status[name]})
        post(client, foundation, event)
        assert stored(event).status in (S.PROCESSED, S.IGNORED), stored(event).note

    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    disputes = entries(donation, EntryCause.DISPUTE)
    assert disputes.count() == 2  # one out, one back
    assert ledger.balances(fund).refunds == usd(0)
    assert donations.fund_progress(fund).raised == usd(50)


def test_a_lost_dispute_books_the_money_out_once(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks
):
    donation = give(fund)
    charge = pay(client, foundation, donation, stripe, django_capture_on_commit_callbacks)
    base = shapes.dispute(id="dp_lost", charge=charge["id"], payment_intent=charge["payment_intent"],
                          amount=charge["amount"])  # fmt: skip

    for name, status in (("created", "warning_needs_response"), ("funds_withdrawn", "needs_response"),
                         ("closed", "lost")):  # fmt: skip
        post(client, foundation, shapes.event(f"charge.dispute.{name}", {**base, "status": status}))

    donation.refresh_from_db()
    assert donation.status == DonationStatus.LOST_DISPUTE
    assert entries(donation, EntryCause.DISPUTE).count() == 1
    assert ledger.balances(fund).refunds == usd(50)


# --- Currencies: settlement in another currency, Adaptive Pricing ----------------------------


def test_a_euro_fund_on_a_dollar_account_books_the_fee_converted_with_stripes_rate(
    client, foundation, euro_fund, stripe, django_capture_on_commit_callbacks
):
    donation = give(euro_fund, "50")
    # Stripe charged 50.00 EUR and settled 54.05 USD (rate 1.081) with a 1.87 USD fee.
    txn = shapes.balance_transaction(id="txn_eur", amount=5405, fee=187, net=5218, currency="usd",
                                     exchange_rate=1.081)  # fmt: skip
    charge_of(donation, stripe, txn=txn)
    event = shapes.event("checkout.session.completed", session_of(donation))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, foundation, event).content == b"processed", stored(event).note

    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    assert donation.fee == eur("1.73")  # 1.87 / 1.081 = 1.7299 → 1.73
    assert (donation.settlement_fee, donation.settlement_net) == (usd("1.87"), usd("52.18"))
    assert donation.exchange_rate == Decimal("1.081")
    (entry,) = entries(donation)
    lines = {line.account.kind: line.amount for line in entry.lines.select_related("account")}
    assert lines == {AccountKind.PROCESSOR_CASH: eur("48.27"), AccountKind.FEES: eur("1.73"),
                     AccountKind.DONATIONS: eur("-50.00")}  # fmt: skip
    assert "52.18" in entry.memo and "1.081" in entry.memo
    client.force_login(staff(foundation, Role.FINANCE_OFFICER))
    page = client.get(reverse("donations_admin:donation", args=[donation.pk])).content.decode()
    assert "Settled by Stripe" in page
    assert "1.081" in page and "1.0810" not in page


def test_adaptive_pricing_books_the_gift_in_the_funds_currency_and_converts_refunds(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks
):
    donation = give(fund, "50")
    # The donor saw and paid 46.30 EUR; Stripe settled 50.05 USD with a 1.75 USD fee.
    session = session_of(donation, currency="eur", amount_total=4630, amount_subtotal=4630,
                         adaptive_pricing={"enabled": True},
                         currency_conversion={"amount_subtotal": 5000, "amount_total": 5000,
                                              "fx_rate": "0.926", "source_currency": "usd"})  # fmt: skip
    txn = shapes.balance_transaction(id="txn_ap", amount=5005, fee=175, net=4830, currency="usd",
                                     exchange_rate=1.081)  # fmt: skip
    charge = charge_of(donation, stripe, txn=txn, amount=4630, amount_captured=4630, currency="eur")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, foundation, shapes.event("checkout.session.completed", session))

    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    assert donation.fee == usd("1.75") and donation.charge_amount == eur("46.30")
    assert ledger.balances(fund).donations == usd(50)

    half = shapes.event("charge.refunded", {**charge, "amount_refunded": 2315})
    assert post(client, foundation, half).content == b"processed"
    donation.refresh_from_db()
    assert donation.status == DonationStatus.PARTIALLY_REFUNDED
    assert donation.amount_refunded == usd(25)
    rest = shapes.event("charge.refunded", {**charge, "amount_refunded": 4630, "refunded": True})
    post(client, foundation, rest)
    donation.refresh_from_db()
    assert donation.status == DonationStatus.REFUNDED
    assert ledger.balances(fund).refunds == usd(50)


# --- Monthly gifts: invoices without a payment intent, failed payments -----------------------


def monthly_gift(client, foundation, fund, stripe, callbacks, subscription="sub_rosa"):
    donation = give(fund, "25", monthly=True)
    charge_of(donation, stripe, invoice="in_first")
    session = session_of(donation, mode="subscription", subscription=subscription, invoice="in_first",
                         payment_intent=None)  # fmt: skip
    with callbacks(execute=True):
        post(client, foundation, shapes.event("checkout.session.completed", session))
    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    return donation


def renewal(subscription="sub_rosa", **overrides) -> dict:
    parent = {"quote_details": None, "subscription_details": {"metadata": {}, "subscription": subscription},
              "type": "subscription_details"}  # fmt: skip
    return shapes.invoice(id=shapes.new_id("in_"), parent=parent, **overrides)


def test_an_invoice_naming_no_payment_intent_is_booked_through_its_payments(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks
):
    first = monthly_gift(client, foundation, fund, stripe, django_capture_on_commit_callbacks)
    invoice = renewal()
    second = Donation(pk=first.pk + 1000, gross=first.gross, fund=fund)
    charge_of(second, stripe, invoice=invoice["id"])
    event = shapes.event("invoice.paid", invoice)

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, foundation, event).content == b"processed", stored(event).note

    gifts = Donation.objects.filter(recurring_gift=first.recurring_gift, status=DonationStatus.COMPLETED)
    assert gifts.count() == 2
    assert gifts.get(invoice_id=invoice["id"]).payment_intent_id == f"pi_{second.pk}"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"amount_paid": 0, "starting_balance": -2500, "ending_balance": 0}, "amount_paid 0"),
        ({"paid_out_of_band": True}, "outside Stripe"),
        ({}, "no card or bank payment"),  # Stripe lists no payment intent among its payments
    ],
)
def test_an_invoice_paid_without_a_payment_intent_ends_ignored_with_the_reason(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks, overrides, reason
):
    first = monthly_gift(client, foundation, fund, stripe, django_capture_on_commit_callbacks)
    event = shapes.event("invoice.paid", renewal(**overrides))

    response = post(client, foundation, event)

    assert response.status_code == 200
    assert stored(event).status == S.IGNORED
    assert reason in stored(event).note
    assert Donation.objects.filter(recurring_gift=first.recurring_gift).count() == 1


def test_an_invoice_whose_payments_hold_no_payment_intent_is_not_left_received_with_the_real_gateway(
    client, foundation, fund, stripe, monkeypatch, django_capture_on_commit_callbacks
):
    """Stripe lists the invoice's payments (API 2025-03-31 and later) and none is a payment intent:
    the gateway says so and the event ends ignored (it used to raise StopIteration and stay
    "received", retried by every sweep for ever)."""
    first = monthly_gift(client, foundation, fund, stripe, django_capture_on_commit_callbacks)
    no_payments = {"object": "list", "data": [], "has_more": False, "url": "/v1/invoice_payments"}
    real, http = make_gateway((200, no_payments))
    monkeypatch.setattr(donation_events, "get_gateway", lambda foundation: real)
    event = shapes.event("invoice.paid", renewal())

    assert post(client, foundation, event).status_code == 200

    assert http.sent[0].path == "/v1/invoice_payments"
    assert stored(event).status == S.IGNORED
    assert Donation.objects.filter(recurring_gift=first.recurring_gift).count() == 1


def test_the_real_gateway_reads_the_settlement_currency_and_rate_of_the_charge():
    intent = {"id": "pi_1", "object": "payment_intent",
              "latest_charge": shapes.charge(id="ch_1", payment_intent="pi_1", currency="eur", amount=5000,
                                             balance_transaction=shapes.balance_transaction(
                                                 amount=5405, fee=187, net=5218, currency="usd",
                                                 exchange_rate=1.081))}  # fmt: skip
    real, _http = make_gateway((200, intent))

    charge = real.retrieve_charge(payment_intent="pi_1")

    assert (charge.amount, charge.fee, charge.net) == (eur(50), usd("1.87"), usd("52.18"))
    assert charge.exchange_rate == Decimal("1.081")


def test_a_failed_monthly_payment_shows_on_the_gift_and_the_donor_is_told_once_in_their_language(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks, mailoutbox
):
    first = monthly_gift(client, foundation, fund, stripe, django_capture_on_commit_callbacks)
    gift = first.recurring_gift
    mailoutbox.clear()
    now = int(timezone.now().timestamp())

    with django_capture_on_commit_callbacks(execute=True):
        for attempt in (1, 2):
            failed = shapes.event("invoice.payment_failed", renewal(status="open", amount_paid=0,
                                  amount_remaining=2500, attempt_count=attempt), created=now + attempt)  # fmt: skip
            assert post(client, foundation, failed).content == b"processed"
    gift.refresh_from_db()
    assert gift.status == RecurringGiftStatus.PAST_DUE
    (email,) = mailoutbox
    assert email.to == ["rosa@example.org"]
    assert 'lang="es"' in email.alternatives[0][0] and "/es/" in email.body

    with django_capture_on_commit_callbacks(execute=True):
        unpaid = shapes.event("customer.subscription.updated", shapes.subscription(id="sub_rosa", status="unpaid"),
                              created=now + 10, previous_attributes={"status": "past_due"})  # fmt: skip
        post(client, foundation, unpaid)
    gift.refresh_from_db()
    assert gift.status == RecurringGiftStatus.UNPAID
    assert len(mailoutbox) == 2

    active = shapes.event("customer.subscription.updated", shapes.subscription(id="sub_rosa", status="active"),
                          created=now + 20, previous_attributes={"status": "unpaid"})  # fmt: skip
    older = shapes.event("customer.subscription.updated", shapes.subscription(id="sub_rosa", status="past_due"),
                         created=now + 5)  # fmt: skip
    post(client, foundation, active)
    post(client, foundation, older)  # delivered late: an older status never wins
    gift.refresh_from_db()
    assert gift.status == RecurringGiftStatus.ACTIVE
    assert stored(older).status == S.IGNORED
    assert ActivityEntry.objects.filter(subject_type="recurring_gift", subject_id=gift.pk,
                                        action="payment_active").exists()  # fmt: skip


# --- Refunds ---------------------------------------------------------------------------------


def test_a_refund_arriving_before_its_payment_waits_and_is_applied_after_it(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks
):
    donation = give(fund)
    charge = charge_of(donation, stripe)
    refunded = shapes.event("charge.refunded", {**charge, "amount_refunded": 2000})

    assert post(client, foundation, refunded).content == b"waiting"

    with django_capture_on_commit_callbacks(execute=True):
        post(client, foundation, shapes.event("checkout.session.completed", session_of(donation)))

    donation.refresh_from_db()
    assert stored(refunded).status == S.PROCESSED
    assert donation.status == DonationStatus.PARTIALLY_REFUNDED
    assert donation.amount_refunded == usd(20)
    assert ledger.balances(fund).refunds == usd(20)
    assert donations.fund_progress(fund).raised == usd(30)


def test_an_event_that_waits_too_long_is_flagged_by_the_sweep(client, foundation, fund, stripe, settings):
    settings.WEBHOOK_WAITING_MAX_DAYS = 3
    donation = give(fund)
    refunded = shapes.event("charge.refunded", {**charge_of(donation, stripe), "amount_refunded": 5000})
    post(client, foundation, refunded)

    webhooks.apply_pending()
    assert stored(refunded).status == S.WAITING, "not old enough yet"
    WebhookEvent.objects.filter(event_id=refunded["id"]).update(
        received_at=timezone.now() - timedelta(days=4)
    )
    webhooks.apply_pending()

    assert stored(refunded).status == S.FLAGGED
    assert stored(refunded).note.startswith("waited too long")


def test_a_failed_refund_gives_the_money_back_to_the_fund_once(
    client, foundation, fund, stripe, django_capture_on_commit_callbacks
):
    donation = give(fund)
    charge = pay(client, foundation, donation, stripe, django_capture_on_commit_callbacks)
    post(client, foundation, shapes.event("charge.refunded", {**charge, "amount_refunded": 1000}))
    refund = shapes.refund(id="re_fails", amount=1000, charge=charge["id"], payment_intent=charge["payment_intent"],
                           status="failed", failure_reason="expired_or_canceled_card")  # fmt: skip
    failed = shapes.event("charge.refund.updated", refund, previous_attributes={"status": "pending"})

    assert post(client, foundation, failed).content == b"processed"
    post(client, foundation, {**failed, "id": shapes.new_id("evt_")})  # the same news again

    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    assert donation.amount_refunded == usd(0)
    assert ledger.balances(fund).refunds == usd(0)
    assert entries(donation, EntryCause.REFUND).count() == 2
    succeeded = shapes.event("charge.refund.updated", {**refund, "id": "re_ok", "status": "succeeded"})
    post(client, foundation, succeeded)
    assert stored(succeeded).status == S.IGNORED


# --- The foundation's own payout ---------------------------------------------------------------


def test_a_failed_payout_to_the_foundations_bank_is_recorded_and_shown_to_finance(client, foundation, stripe):
    event = shapes.event("payout.failed", shapes.payout())

    assert post(client, foundation, event).content == b"processed"

    entry = ActivityEntry.objects.get(foundation=foundation, action="payout_failed")
    assert "po_1Pgc79B7WZ01zgkWu1KToYf4" in entry.note and "account_closed" in entry.note
    client.force_login(staff(foundation, Role.FINANCE_OFFICER))
    html = client.get(reverse("payments:webhooks")).content.decode()
    assert "account_closed" in html and "11.00" in html


# --- Re-applying a flagged event -------------------------------------------------------------


@pytest.fixture
def flagged(client, foundation, fund, stripe):
    """A gift whose completion was flagged: Stripe refused the charge look-up (bad keys)."""
    donation = give(fund)
    charge_of(donation, stripe)
    stripe.refusal = PaymentError("authentication")
    event = shapes.event("checkout.session.completed", session_of(donation))
    assert post(client, foundation, event).content == b"flagged"
    stripe.refusal = None
    return stored(event), donation


def reapply_url(event):
    return reverse("payments:webhook_reapply", args=[event.pk])


def test_finance_re_applies_a_flagged_event_after_confirming_and_it_books_once(
    client, foundation, fund, flagged, django_capture_on_commit_callbacks
):
    event, donation = flagged
    finance = staff(foundation, Role.FINANCE_OFFICER)
    client.force_login(finance)

    listing = client.get(reverse("payments:webhooks")).content.decode()
    assert reapply_url(event) in listing
    confirm = client.get(reapply_url(event))
    assert confirm.status_code == 200 and "csrfmiddlewaretoken" in confirm.content.decode()
    assert WebhookEvent.objects.get(pk=event.pk).status == S.FLAGGED, "a GET changes nothing"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reapply_url(event))
    assert response.status_code == 302
    event.refresh_from_db()
    donation.refresh_from_db()
    assert event.status == S.PROCESSED
    assert donation.status == DonationStatus.COMPLETED
    assert entries(donation).count() == 1
    entry = ActivityEntry.objects.get(subject_type="webhook_event", subject_id=event.pk, action="reapply")
    assert entry.actor == finance and "Stripe refused" in entry.note

    again = client.post(reapply_url(event), follow=True)
    assert "Only a flagged event can be applied again." in again.content.decode()
    assert entries(donation).count() == 1
    assert ActivityEntry.objects.filter(action="reapply").count() == 1


def test_re_applying_is_refused_to_auditors_and_to_another_foundations_staff(client, foundation, flagged):
    event, _donation = flagged
    other = FoundationFactory(name="Valley Foundation", slug="valley")
    for user in (staff(foundation, Role.AUDITOR), staff(other, Role.FINANCE_OFFICER)):
        client.force_login(user)
        assert not_found(client.get(reapply_url(event)))
        assert not_found(client.post(reapply_url(event)))
    assert WebhookEvent.objects.get(pk=event.pk).status == S.FLAGGED
    assert not ActivityEntry.objects.filter(action="reapply").exists()


def test_re_applying_needs_the_csrf_token(foundation, flagged):
    event, _donation = flagged
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff(foundation, Role.FOUNDATION_ADMIN))
    assert strict.post(reapply_url(event)).status_code == 403
    assert WebhookEvent.objects.get(pk=event.pk).status == S.FLAGGED


# --- Structure -------------------------------------------------------------------------------


def test_the_webhook_module_never_imports_the_tasks_module():
    """The view enqueues a task defined beside it; ``grants.tasks`` re-exports it (one direction)."""
    source = pathlib.Path(webhooks.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not any(name == "grants.tasks" or name.startswith("grants.tasks.") for name in imported)
    assert tasks.apply_webhook_event is webhooks.apply_webhook_event
