"""Benchmark: Stripe webhook intake under gunicorn with 2 workers, each event applied once (PostgreSQL).

A copy of the test database gets ``EVENTS`` pending one-time gifts (``loadtest/webhook_seed.py``):
each ``checkout.session.completed`` event has real work to do — lock the gift, check amount and
session, fetch the charge and fee from the simulated Stripe, complete the gift, post its
three-line journal entry (fund row locked), number its receipt (foundation row locked) and
queue the receipt email. The portal runs under gunicorn (2 sync workers, production settings,
tasks queued in the database, email in memory) on a free loopback port. Intake verifies, stores
and answers each event; two task workers (``manage.py db_worker``) then apply the queued events,
and their rate is printed too. After a short warm-up,
``THREADS`` client threads send every event once plus ``REPLAYS`` replays of events already sent
(same id, freshly signed, as Stripe's retries), all signed beforehand so the client spends its
time sending.

Target: at least 200 events/s sustained (every request counted, replays included). Then the
database must show each event applied exactly once: one stored ``WebhookEvent`` per id, every
gift completed once with one journal entry and one receipt number, the ledger's donations equal
to the gifts, and every replay answered 200 without effect.
"""

import json
import os
import random
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from grants.payments.signing import sign_payload
from tests.bench.loadtest import client, databases, server

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="webhook bench needs PostgreSQL (row locks, 2 processes): run with DATABASE_URL=postgres://…",
    ),
    # Only so that pytest-django creates the test database, the template of the bench's own.
    pytest.mark.django_db,
]

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "1500"))
REPLAYS = EVENTS // 10
WARM_UP = 20
THREADS = 8
TIME_LIMIT = 90  # seconds; deliveries not started by then are left out
TARGET = 200


def _deliveries(secret: str, path: str, payloads: list[tuple[str, str]], answers: list) -> list:
    """One scenario per (name, payload): POST it signed now (Stripe allows 300 s); answers are kept."""

    def delivery(name: str, payload: str):
        body, event_id = payload.encode(), json.loads(payload)["id"]
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, secret)}

        def send(session: client.Session) -> None:
            response = session.request(name, "POST", path, body=body, headers=headers)
            answers.append((name, response.status, response.text, event_id))

        return send

    return [delivery(name, payload) for name, payload in payloads]


def _verify(url: str, seed: dict) -> dict:
    """What the database says about the events sent (SQL, read after the server stopped)."""
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:

        def one(query: str, *params):
            return db.execute(query, params).fetchone()

        foundation = one("SELECT id FROM grants_foundation WHERE slug = %s", seed["slug"])[0]
        return {
            "stored": one("SELECT count(*), count(DISTINCT event_id) FROM grants_webhookevent "
                          "WHERE foundation_id = %s", foundation),
            "statuses": dict(db.execute("SELECT status, count(*) FROM grants_webhookevent "
                                        "WHERE foundation_id = %s GROUP BY 1", (foundation,)).fetchall()),
            "gifts": one("SELECT count(*) FILTER (WHERE status = 'completed'), count(*), "
                         "count(DISTINCT receipt_number), count(receipt_number), "
                         "sum(gross) FILTER (WHERE status = 'completed') "
                         "FROM grants_donation WHERE foundation_id = %s", foundation),
            "entries": one("SELECT count(*), count(DISTINCT donation_id) FROM grants_journalentry "
                           "WHERE foundation_id = %s AND cause = 'donation'", foundation),
            "donations_account": one("SELECT -sum(l.amount) FROM grants_journalline l JOIN grants_ledgeraccount a "
                                     "ON a.id = l.account_id JOIN grants_fund f ON f.id = a.fund_id "
                                     "WHERE f.foundation_id = %s AND a.kind = 'donations'", foundation)[0],
        }  # fmt: skip


@pytest.fixture(scope="module")
def bench_database(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), databases.copy_of_test_database("webhooks") as url:
        yield url


def test_webhook_intake_two_workers_exactly_once(bench_database):
    url = bench_database
    env = server.portal_env(url)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "events.json"
        started = time.perf_counter()
        server.run_python(env, "-m", "tests.bench.loadtest.webhook_seed", str(EVENTS + WARM_UP), str(output))
        seed = json.loads(output.read_text())
        print(f"\nseeded {EVENTS + WARM_UP:,} pending gifts in {time.perf_counter() - started:.1f} s")

    path = f"/stripe/webhooks/{seed['slug']}/"
    warm_up, events = seed["events"][:WARM_UP], seed["events"][WARM_UP:]
    # The replays go out among the second half of the events, after their originals were sent.
    half = len(events) // 2
    rest = [("event", p) for p in events[half:]] + [
        ("replay", p) for p in random.Random(7).sample(events[:half], REPLAYS)
    ]
    random.Random(11).shuffle(rest)
    payloads = [("event", p) for p in events[:half]] + rest
    answers = []

    with server.gunicorn(env, workers=2, probe="/en/") as base:
        client.run(base, _deliveries(seed["secret"], path, [("warm-up", p) for p in warm_up], answers),
                   threads=2, time_limit=TIME_LIMIT)  # fmt: skip
        timings, failures, elapsed = client.run(
            base,
            _deliveries(seed["secret"], path, payloads, answers),
            threads=THREADS,
            time_limit=TIME_LIMIT,
        )

    sent = len(timings)
    rate = sent / elapsed
    client.report(timings)
    # Stripe has its answers; now the task workers apply the queued events (2 processes at once).
    started = time.perf_counter()
    workers = [server.start_python(env, "manage.py", "db_worker", "--batch", "--no-startup-delay",
                                   "--no-reload") for _ in range(2)]  # fmt: skip
    for worker in workers:
        server.finish(worker, timeout=600)
    applied_in = time.perf_counter() - started
    result = _verify(url, seed)
    applied = sum(result["statuses"].values())
    print(
        f"applied by 2 task workers: {applied:,} events in {applied_in:.1f} s ({applied / applied_in:.0f}/s)"
    )

    holds = rate >= TARGET
    print(f"result in the database: {result}")
    print(
        f"webhook intake: {rate:.0f} events/s over {sent:,} requests in {elapsed:.1f} s "
        f"(2 gunicorn workers, {THREADS} client threads, {REPLAYS} replays) "
        f"(target ≥ {TARGET}) {'holds' if holds else 'fails'}"
    )
    # Deliveries not started within TIME_LIMIT (a loaded machine) are left out of the checks.
    total = len({event_id for name, _status, _text, event_id in answers if name != "replay"})
    assert not failures, failures[:5]
    assert all(status == 200 for _name, status, _text, _id in answers), [a for a in answers if a[1] != 200][
        :5
    ]
    replies = {text for name, _status, text, _id in answers if name == "replay"}
    assert replies <= {"already processed"}, "a replay is acknowledged and changes nothing"
    assert result["stored"] == (total, total), "one stored event per id"
    assert result["statuses"] == {"processed": total}
    completed, _seeded, distinct_receipts, receipts, gross = result["gifts"]
    assert completed == total, "every gift whose event was sent completed"
    assert distinct_receipts == receipts == total, "one receipt number per gift"
    assert result["entries"] == (total, total), "one journal entry per gift"
    assert result["donations_account"] == gross, "the ledger's donations are the gifts"
    assert holds
