"""StripeGateway sends what Stripe expects and turns Stripe's answers and errors into ours.

The library's HTTP client is replaced by a fake at its boundary: the requests are recorded as
Stripe would receive them (method, path, form parameters, headers) and answered with canned JSON.
"""

import datetime
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from djmoney.money import Money

from grants.payments.credentials import StripeCredentials
from grants.payments.gateway import PaymentError
from grants.payments.stripe_gateway import StripeGateway

SECRET_KEY = "sk_test_fake_123"


@dataclass
class Sent:
    method: str
    path: str
    params: dict
    headers: dict


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers each request with the next canned (status, JSON) pair, or raises the next exception."""

    name = "fake"

    def __init__(self, *answers):
        super().__init__()
        self.answers = list(answers)
        self.sent: list[Sent] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else post_data
        params = dict(parse_qsl(body or parts.query, keep_blank_values=True))
        self.sent.append(Sent(method.upper(), parts.path, params, dict(headers or {})))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer
        return json.dumps(payload), status, {"Request-Id": "req_fake"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass


def make_gateway(*answers):
    http = FakeStripeHTTP(*answers)
    credentials = StripeCredentials(SECRET_KEY, "pk_test_fake", "whsec_a", "whsec_b")
    # No retries of its own: each canned answer is used exactly once.
    return StripeGateway(credentials, http_client=http, max_network_retries=0), http


def transfer_json(transfer_id="tr_1", amount=25000, currency="usd", created=1767225600, **extra):
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "currency": currency,
        "created": created,
        "destination": "acct_grantee",
        "metadata": {"disbursement": "1"},
        "reversed": False,
        "transfer_group": "award:3",
        **extra,
    }


def assert_standard_headers(sent: Sent, settings, idempotency_key=None):
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.headers["Stripe-Version"] == settings.STRIPE_API_VERSION
    if idempotency_key is not None:
        assert sent.headers["Idempotency-Key"] == idempotency_key


@pytest.mark.parametrize(
    ("amount", "minor", "currency"),
    [(Money("250.00", "USD"), "25000", "usd"), (Money("5000", "JPY"), "5000", "jpy")],
)
def test_create_transfer_sends_minor_units_destination_group_metadata_and_the_key(
    settings, amount, minor, currency
):
    gateway, http = make_gateway((200, transfer_json(amount=int(minor), currency=currency)))

    transfer = gateway.create_transfer(
        amount=amount,
        destination="acct_grantee",
        transfer_group="award:3",
        metadata={"disbursement": "1"},
        idempotency_key="disbursement:1",
    )

    (sent,) = http.sent
    assert (sent.method, sent.path) == ("POST", "/v1/transfers")
    assert sent.params == {
        "amount": minor,
        "currency": currency,
        "destination": "acct_grantee",
        "transfer_group": "award:3",
        "metadata[disbursement]": "1",
    }
    assert_standard_headers(sent, settings, "disbursement:1")
    assert transfer.id == "tr_1"
    assert transfer.amount == amount
    assert transfer.amount_reversed == Money(0, amount.currency)
    assert transfer.metadata == {"disbursement": "1"}
    assert transfer.created == datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def test_reverse_transfer(settings):
    reversal = {
        "id": "trr_1",
        "object": "transfer_reversal",
        "amount": 10000,
        "currency": "usd",
        "transfer": "tr_1",
    }
    gateway, http = make_gateway((200, reversal))

    result = gateway.reverse_transfer(
        transfer_id="tr_1",
        amount=Money("100.00", "USD"),
        metadata={"reason": "returned"},
        idempotency_key="rev:1",
    )

    (sent,) = http.sent
    assert (sent.method, sent.path) == ("POST", "/v1/transfers/tr_1/reversals")
    assert sent.params == {"amount": "10000", "metadata[reason]": "returned"}
    assert_standard_headers(sent, settings, "rev:1")
    assert (result.id, result.transfer_id, result.amount) == ("trr_1", "tr_1", Money("100.00", "USD"))


def test_create_connected_account_and_onboarding_link(settings):
    account = {
        "id": "acct_1",
        "object": "account",
        "email": "t@example.org",
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "requirements": {"currently_due": ["external_account"], "past_due": [], "disabled_reason": None},
    }
    link = {"object": "account_link", "url": "https://connect.stripe.com/setup/e/acct_1/abc", "expires_at": 1}
    gateway, http = make_gateway((200, account), (200, link))

    created = gateway.create_connected_account(
        email="t@example.org", metadata={"organization": "7"}, idempotency_key="org:7:account"
    )
    url = gateway.create_onboarding_link(
        account_id="acct_1", refresh_url="https://p.example/refresh", return_url="https://p.example/back"
    )

    account_request, link_request = http.sent
    assert (account_request.method, account_request.path) == ("POST", "/v1/accounts")
    assert account_request.params == {
        "type": "express",
        "country": "US",
        "email": "t@example.org",
        "capabilities[transfers][requested]": "true",
        "metadata[organization]": "7",
    }
    assert_standard_headers(account_request, settings, "org:7:account")
    assert created.requirements_due == ("external_account",)
    assert created.payout_status == "information_needed"
    assert (link_request.path, link_request.params) == (
        "/v1/account_links",
        {
            "account": "acct_1",
            "refresh_url": "https://p.example/refresh",
            "return_url": "https://p.example/back",
            "type": "account_onboarding",
        },
    )
    assert url == link["url"]


def test_retrieve_account(settings):
    account = {
        "id": "acct_1",
        "object": "account",
        "email": "t@example.org",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "requirements": {"currently_due": [], "past_due": [], "disabled_reason": None},
    }
    gateway, http = make_gateway((200, account))

    assert gateway.retrieve_account("acct_1").payout_status == "ready"
    assert (http.sent[0].method, http.sent[0].path) == ("GET", "/v1/accounts/acct_1")
    assert_standard_headers(http.sent[0], settings)


def session_json(mode, **extra):
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "url": "https://checkout.stripe.com/c/pay/cs_test_1",
        "mode": mode,
        "status": "open",
        "amount_total": 5000,
        "currency": "usd",
        "metadata": {"donation": "9"},
        "payment_intent": None,
        "subscription": None,
        "customer_email": "donor@example.org",
        **extra,
    }


@pytest.mark.parametrize("mode", ["payment", "subscription"])
def test_create_checkout_session(settings, mode):
    gateway, http = make_gateway((200, session_json(mode)))

    session = gateway.create_checkout_session(
        mode=mode,
        amount=Money("50.00", "USD"),
        product_name="Rapid Response Fund",
        success_url="https://p.example/thanks?s={CHECKOUT_SESSION_ID}",
        cancel_url="https://p.example/donate",
        customer_email="donor@example.org",
        metadata={"donation": "9"},
        idempotency_key="donation:9:checkout",
    )

    (sent,) = http.sent
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    expected = {
        "mode": mode,
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][product_data][name]": "Rapid Response Fund",
        "line_items[0][price_data][unit_amount]": "5000",
        "line_items[0][quantity]": "1",
        "success_url": "https://p.example/thanks?s={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://p.example/donate",
        "customer_email": "donor@example.org",
        "metadata[donation]": "9",
    }
    if mode == "payment":
        expected["payment_intent_data[metadata][donation]"] = "9"
    else:
        expected["line_items[0][price_data][recurring][interval]"] = "month"
        expected["subscription_data[metadata][donation]"] = "9"
    assert sent.params == expected
    assert_standard_headers(sent, settings, "donation:9:checkout")
    assert session.url == "https://checkout.stripe.com/c/pay/cs_test_1"
    assert session.amount_total == Money("50.00", "USD")
    assert session.payment_intent == ""


def test_create_refund(settings):
    refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 2000,
        "currency": "usd",
        "payment_intent": "pi_1",
        "status": "succeeded",
    }
    gateway, http = make_gateway((200, refund))

    result = gateway.create_refund(
        payment_intent="pi_1",
        amount=Money("20.00", "USD"),
        metadata={"donation": "9"},
        idempotency_key="refund:1",
    )

    (sent,) = http.sent
    assert (sent.path, sent.params) == (
        "/v1/refunds",
        {"payment_intent": "pi_1", "amount": "2000", "metadata[donation]": "9"},
    )
    assert_standard_headers(sent, settings, "refund:1")
    assert (result.id, result.amount, result.status) == ("re_1", Money("20.00", "USD"), "succeeded")


def test_list_transfers_follows_every_page():
    first = {
        "object": "list",
        "url": "/v1/transfers",
        "has_more": True,
        "data": [transfer_json("tr_3"), transfer_json("tr_2")],
    }
    second = {"object": "list", "url": "/v1/transfers", "has_more": False, "data": [transfer_json("tr_1")]}
    gateway, http = make_gateway((200, first), (200, second))
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)

    transfers = list(gateway.list_transfers(created_from=start, created_to=end))

    assert [t.id for t in transfers] == ["tr_3", "tr_2", "tr_1"]
    page_one, page_two = http.sent
    assert (page_one.method, page_one.path) == ("GET", "/v1/transfers")
    range_params = {"created[gte]": str(int(start.timestamp())), "created[lt]": str(int(end.timestamp()))}
    assert page_one.params == {**range_params, "limit": "100"}
    assert page_two.params == {**range_params, "limit": "100", "starting_after": "tr_2"}


def test_retrieve_charge_expands_the_balance_transaction():
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "latest_charge": {
            "id": "ch_1",
            "object": "charge",
            "amount": 5000,
            "amount_refunded": 0,
            "currency": "usd",
            "payment_intent": "pi_1",
            "balance_transaction": {
                "id": "txn_1",
                "object": "balance_transaction",
                "fee": 175,
                "net": 4825,
                "currency": "usd",
            },
        },
    }
    gateway, http = make_gateway((200, intent))

    charge = gateway.retrieve_charge(payment_intent="pi_1")

    assert http.sent[0].path == "/v1/payment_intents/pi_1"
    assert http.sent[0].params == {"expand[0]": "latest_charge.balance_transaction"}
    assert (charge.id, charge.fee, charge.net) == ("ch_1", Money("1.75", "USD"), Money("48.25", "USD"))


def test_cancel_subscription():
    gateway, http = make_gateway((200, {"id": "sub_1", "object": "subscription", "status": "canceled"}))

    gateway.cancel_subscription(subscription_id="sub_1")

    assert (http.sent[0].method, http.sent[0].path) == ("DELETE", "/v1/subscriptions/sub_1")


def error(type_, code=None, message="refused"):
    return {"error": {"type": type_, "code": code, "message": message}}


@pytest.mark.parametrize(
    ("answer", "kind", "retryable"),
    [
        ((402, error("card_error", "card_declined")), "card_declined", False),
        ((429, error("invalid_request_error", "rate_limit")), "rate_limit", True),
        ((400, error("invalid_request_error", "balance_insufficient")), "insufficient_balance", False),
        ((400, error("invalid_request_error", "parameter_invalid_integer")), "invalid_request", False),
        ((400, error("idempotency_error")), "idempotency_conflict", False),
        ((401, error("invalid_request_error")), "authentication", False),
        ((403, error("invalid_request_error")), "authentication", False),
        ((500, error("api_error")), "api", True),
        (stripe.APIConnectionError("Connection refused", should_retry=True), "network", True),
    ],
)
def test_stripe_errors_become_payment_errors(answer, kind, retryable, caplog):
    gateway, http = make_gateway(answer)

    with pytest.raises(PaymentError) as caught:
        gateway.create_transfer(
            amount=Money("250.00", "USD"),
            destination="acct_grantee",
            transfer_group="award:3",
            metadata={},
            idempotency_key="disbursement:1",
        )

    assert caught.value.kind == kind
    assert caught.value.retryable is retryable
    assert str(caught.value.message)
    assert len(http.sent) == 1  # the library did not retry on its own
    # Our log line names the kind, never Stripe's message (it can quote what people typed).
    (logged,) = [r.getMessage() for r in caplog.records if r.name.startswith("grants")]
    assert f"kind={kind}" in logged and "refused" not in logged
