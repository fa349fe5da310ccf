"""Stripe's webhook endpoints under garbage: unsigned bytes, broken headers, and correctly signed
JSON of every wrong shape. The answer is 400 (nothing stored) or 200 (the event stored once,
with its effects complete or none at all), never a 500."""

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from grants.models import (
    Donation,
    DonationStatus,
    JournalEntry,
    JournalLine,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments import webhooks
from grants.payments.credentials import credentials_for
from grants.payments.signing import sign_payload
from grants.payments.simulator import base as simulator
from grants.services import donations
from tests.fuzz.conftest import assert_no_writes, fuzz_settings, written_tables

pytestmark = pytest.mark.django_db

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["usd", "USD", "jpy", "xxx", "", "1e309", "acct_1", "paid", "subscription", "payment"]),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@pytest.fixture
def target(world, monkeypatch):
    """A pending $50 gift (its Checkout session open) for events to point at."""
    monkeypatch.setattr(simulator, "deliver_after_commit", lambda delivery: None)
    donation, _url = donations.start_donation(
        fund=world["fund"], amount=Money(50, "USD"), monthly=False, cover_fee=False, anonymous=False,
        name="Rosa", email="rosa@example.org", language="en", success_url="https://example.org/ok",
        cancel_url="https://example.org/cancel",
    )  # fmt: skip
    return {"world": world, "donation": donation, "foundation": world["foundation"]}


def _url(slug: str, connect: bool) -> str:
    return reverse("stripe_connect_webhook" if connect else "stripe_webhook", kwargs={"foundation": slug})


def _post(client, foundation, payload: bytes, *, connect=False, signature=None):
    if signature is None:
        credentials = credentials_for(foundation)
        secret = credentials.connect_webhook_secret if connect else credentials.webhook_secret
        signature = sign_payload(payload, secret)
    return client.post(
        _url(foundation.slug, connect), data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )  # fmt: skip


def _ledger_balanced():
    for entry in JournalEntry.objects.all():
        sums = {}
        for line in JournalLine.objects.filter(entry=entry):
            sums[str(line.amount.currency)] = sums.get(str(line.amount.currency), 0) + line.amount.amount
        assert all(total == 0 for total in sums.values()), f"entry {entry.pk} does not balance"


# --- Unsigned or wrongly signed ----------------------------------------------------------------


@fuzz_settings(60)
@given(
    body=st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())),
    header=st.one_of(
        st.text(max_size=80),
        st.sampled_from(
            ["", "t=", "t=abc,v1=", "t=1,v1=é", "v1=00", "t=99999999999999999999,v1=ff", "t=1,v0=a"]
        ),
        st.builds(lambda t, s: f"t={t},v1={s}", st.integers(), st.text(max_size=70)),
    ),
    connect=st.booleans(),
)
def test_unsigned_garbage_is_refused_and_stores_nothing(client, target, body, header, connect):
    with assert_no_writes():
        response = client.post(
            _url(target["foundation"].slug, connect), data=body, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )  # fmt: skip
    assert response.status_code == 400


def test_a_signature_with_non_ascii_characters_is_a_400(client, target):
    with assert_no_writes():
        response = client.post(
            _url(target["foundation"].slug, False), data=b"{}", content_type="application/json",
            HTTP_STRIPE_SIGNATURE="t=1,v1=é",
        )  # fmt: skip
    assert response.status_code == 400


# --- Correctly signed, wrongly shaped ------------------------------------------------------------


@fuzz_settings(60)
@given(value=json_values, connect=st.booleans())
def test_signed_json_of_any_shape_is_refused_or_stored_once(client, target, value, connect):
    payload = json.dumps(value).encode()
    before = WebhookEvent.objects.count()
    response = _post(client, target["foundation"], payload, connect=connect)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert WebhookEvent.objects.count() == before


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'"evt_1"',
        b"42",
        b"null",
        b'{"type": "charge.refunded"}',
        b'{"id": 17, "type": "charge.refunded", "data": {"object": {}}}',
        b'{"id": "' + b"e" * 65 + b'", "type": "x", "data": {"object": {}}}',
        b'{"id": "evt_1", "type": ["x"], "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "x", "created": 1e999, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "x", "created": 123456789012345678901234567890, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "x", "account": {"id": 1}, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "transfer.created", "data": []}',
        b'{"id": "evt_1", "type": "transfer.created", "data": {"object": "tr_1"}}',
        b'{"id": "evt_1", "type": "transfer.created"}',
        b'{"id": "evt_\\u0000", "type": "x", "data": {"object": {}}}',
        b"[" * 5000 + b"]" * 5000,
        b'{"id": "evt_1", "type": "x", "data": {"object": {"amount": NaN}}}',
        b'{"id": "evt_1", "type": "x", "data": {"object": {"amount": Infinity}}}',
    ],
)
def test_signed_envelopes_of_the_wrong_shape_are_a_400_storing_nothing(client, target, payload):
    with assert_no_writes():
        response = _post(client, target["foundation"], payload)
    assert response.status_code == 400


OBJECT_KEYS = [
    "id", "object", "amount", "amount_total", "amount_paid", "amount_reversed", "amount_refunded", "currency",
    "metadata", "created", "destination", "transfer_group", "reversed", "payment_intent", "payment_status",
    "mode", "subscription", "invoice", "customer", "charge", "status", "requirements", "payouts_enabled",
    "details_submitted", "parent", "payments", "billing_reason", "refunds", "reason", "balance_transaction",
]  # fmt: skip


@pytest.fixture
def pointers(target):
    donation = target["donation"]
    return {
        "ids": [donation.checkout_session_id, "tr_unknown", "acct_unknown", "ch_1", "pi_1", "in_1"],
        "metadata": [{"donation": str(donation.pk)}, {"donation": "99999999999999999999"},
                     {"disbursement": "1"}, {"donation": donation.pk}, {"donation": "-1"}],
    }  # fmt: skip


def _object(pointers):
    values = st.one_of(
        json_values,
        st.sampled_from(pointers["ids"]),
        st.sampled_from(pointers["metadata"]),
        st.sampled_from([5000, 50, "5000", 5000.0, -5000, 10**20, "usd"]),
    )
    return st.dictionaries(st.sampled_from(OBJECT_KEYS), values, max_size=10)


@fuzz_settings(60)
@given(data=st.data())
def test_signed_events_of_known_types_with_garbage_objects_never_500(client, target, pointers, data):
    event = {
        "id": data.draw(st.from_regex(r"\Aevt_[A-Za-z0-9]{1,20}\Z")),
        "object": "event",
        "type": data.draw(st.sampled_from(sorted(webhooks.HANDLERS) + ["unknown.type", "payout.paid"])),
        "livemode": data.draw(st.one_of(st.just(False), json_values)),
        "created": data.draw(st.one_of(st.integers(min_value=0, max_value=2**62), st.just(int(time.time())))),
        "data": {"object": data.draw(_object(pointers))},
    }
    if data.draw(st.booleans()):
        event["account"] = data.draw(st.sampled_from(["acct_unknown", "", None, "acct_1"]))
    connect = data.draw(st.booleans())
    with CaptureQueriesContext(connection) as captured:
        response = _post(client, target["foundation"], json.dumps(event).encode(), connect=connect)
    assert response.status_code in (200, 400), response.content
    written = set(written_tables(captured.captured_queries))
    if response.status_code == 400:
        # Nothing kept (PostgreSQL may have refused the INSERT itself, e.g. a NUL in the payload).
        assert written <= {WebhookEvent._meta.db_table}
        assert not WebhookEvent.objects.filter(event_id=event["id"]).exists()
        return
    stored = WebhookEvent.objects.get(event_id=event["id"])
    if stored.status != WebhookEventStatus.PROCESSED:
        # Ignored or flagged: the event is kept for a person to look at, and nothing else changed.
        others = written - {WebhookEvent._meta.db_table}
        assert not others, f"{stored.status} event {stored.type} ({stored.note}) also wrote {sorted(others)}"
    else:
        _ledger_balanced()


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("transfer.created", {"id": "tr_1"}),
        ("transfer.created", {"id": "tr_1", "amount": "100", "currency": "usd", "created": 1}),
        ("transfer.reversed", {"id": "tr_1", "amount": 100, "currency": 7, "created": 1}),
        ("transfer.created", {"id": "tr_1", "amount": 100, "currency": "usd", "created": 10**30}),
        ("checkout.session.completed", {"id": "cs_1", "metadata": "donation=1"}),
        ("invoice.paid", {"id": "in_1", "parent": "sub_1"}),
        ("charge.refunded", {"id": "ch_1", "payment_intent": ["pi_1"]}),
        ("account.updated", {"id": "acct_1", "requirements": "none"}),
    ],
)
def test_signed_events_with_unreadable_objects_are_flagged_not_500(client, target, kind, obj):
    event = {"id": f"evt_{kind}", "type": kind, "livemode": False, "created": 1, "account": "acct_1",
             "data": {"object": obj}}  # fmt: skip
    with CaptureQueriesContext(connection) as captured:
        response = _post(
            client, target["foundation"], json.dumps(event).encode(), connect=kind == "account.updated"
        )
    assert response.status_code == 200
    stored = WebhookEvent.objects.get(event_id=event["id"])
    assert stored.status in (WebhookEventStatus.FLAGGED, WebhookEventStatus.IGNORED)
    assert set(written_tables(captured.captured_queries)) <= {WebhookEvent._meta.db_table}


def test_a_handler_failing_half_way_keeps_none_of_its_writes(client, target, monkeypatch):
    donation = target["donation"]

    def half_way(event):
        Donation.objects.filter(pk=donation.pk).update(status=DonationStatus.COMPLETED)
        raise KeyError("amount")

    monkeypatch.setitem(webhooks.HANDLERS, "charge.refunded", half_way)
    event = {"id": "evt_half", "type": "charge.refunded", "created": 1, "data": {"object": {}}}
    response = _post(client, target["foundation"], json.dumps(event).encode())
    assert response.status_code == 200
    stored = WebhookEvent.objects.get(event_id="evt_half")
    assert stored.status == WebhookEventStatus.FLAGGED and "unreadable" in stored.note
    donation.refresh_from_db()
    assert donation.status == DonationStatus.PENDING


def test_a_gift_paid_in_another_amount_is_flagged_and_books_nothing(client, target):
    donation = target["donation"]
    event = {
        "id": "evt_wrong_amount", "type": "checkout.session.completed", "livemode": False, "created": 1,
        "data": {"object": {"id": donation.checkout_session_id, "metadata": {"donation": str(donation.pk)},
                            "amount_total": 10**20, "currency": "usd", "payment_status": "paid",
                            "mode": "payment"}},
    }  # fmt: skip
    response = _post(client, target["foundation"], json.dumps(event).encode())
    assert response.status_code == 200
    assert WebhookEvent.objects.get(event_id="evt_wrong_amount").status == WebhookEventStatus.FLAGGED
    donation.refresh_from_db()
    assert donation.status == DonationStatus.PENDING
    assert not JournalEntry.objects.filter(donation=donation).exists()
    assert Donation.objects.count() == 1


def test_a_payload_the_database_cannot_store_is_a_400_storing_nothing(client, target):
    """PostgreSQL's jsonb holds no NUL character: such an event is refused, never a 500."""
    payload = b'{"id": "evt_nul", "type": "x.y", "created": 1, "data": {"object": {"k\\u0000": "a\\u0000b"}}}'
    response = _post(client, target["foundation"], payload)
    if connection.vendor == "postgresql":
        assert response.status_code == 400
        assert not WebhookEvent.objects.filter(event_id="evt_nul").exists()
    else:  # SQLite stores it; an unknown type is acknowledged and ignored
        assert response.status_code == 200
        assert WebhookEvent.objects.get(event_id="evt_nul").status == WebhookEventStatus.IGNORED
