"""Load test: public page traffic and a donation burst together, against gunicorn on loopback.

A copy of the test database gets the demo data (``manage.py seed_demo``); the portal runs under
gunicorn (2 sync workers, production settings, simulated Stripe) on a free loopback port. The
load generator (``loadtest/client.py``: threads, standard library, see its docstring for why not
locust) plays, shuffled together on ``THREADS`` threads:

- ``PAGE_VIEWS`` visits of public pages: home, fund pages, call pages, transparency pages,
  donate pages;
- ``DONORS`` donors doing what a donor does: open the donate page, submit the form (a pending
  gift and its Checkout session), pay on the (simulated) Checkout page — whose webhook is
  stored and answered, and applied by the task worker (``manage.py db_worker``) running beside
  gunicorn — and land on the thank-you page. After the burst the events still queued are
  applied (``db_worker --batch``) before the gifts are checked.

Bounded: no scenario starts after ``TIME_LIMIT`` seconds (on a loaded machine some donors may
not start; the gifts of those who did are checked). Reported per endpoint: requests,
errors, median and p95. Target: no errors (no 5xx, no failed connection, every step answered
as a browser expects), and every completed gift recorded exactly once (completed, one journal
entry, one receipt number).
"""

import contextlib
import json
import random
import re
import time

import psycopg
import pytest
import redis
from django.db import connection

from tests.bench.loadtest import client, databases, server

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="load test needs PostgreSQL (concurrent writes from 2 processes): run with DATABASE_URL=postgres://…",
    ),
    # Only so that pytest-django creates the test database, the template of the bench's own.
    pytest.mark.django_db,
]

BENCH_CACHE_URL = "redis://127.0.0.1:6379/8"
PAGE_VIEWS = 500
DONORS = 40
THREADS = 8
TIME_LIMIT = 60
CHECKOUT_PATH = re.compile(r"^/simulated-stripe/checkout/(cs_test_\w+)/$")
AMOUNT_INPUT = re.compile(r'name="amount"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="amount"')


def _expect(response: client.Response, status: int, what: str) -> client.Response:
    if response.status != status:
        raise client.RequestFailed(f"{what}: {response.status} instead of {status}")
    return response


def _page_view(name: str, path: str):
    def visit(session: client.Session) -> None:
        _expect(session.get(name, path), 200, path)

    return visit


def _donor(number: int, donate_path: str, completed: list):
    def give(session: client.Session) -> None:
        form = _expect(session.get("donate page", donate_path), 200, "donate page")
        match = AMOUNT_INPUT.search(form.text)
        if not match:
            raise client.RequestFailed("no preset amount on the donate page")
        fields = {
            "csrfmiddlewaretoken": session.csrf_token(form),
            "amount": match.group(1) or match.group(2),
            "frequency": "one_time",
            "name": f"Load Donor {number}",
            "email": f"loadtest-{number}@example.org",
        }
        submitted = _expect(
            session.post_form("donate submit", donate_path, fields, referer=donate_path), 302, "donate submit"
        )
        checkout_path = submitted.headers.get("location", "")
        found = CHECKOUT_PATH.match(checkout_path)
        if not found:
            raise client.RequestFailed(f"donate submit went to {checkout_path!r}, not Checkout")
        page = _expect(session.get("checkout page", checkout_path), 200, "checkout page")
        paid = _expect(
            session.post_form(
                "checkout pay",
                checkout_path,
                {"csrfmiddlewaretoken": session.csrf_token(page), "card_number": "4242 4242 4242 4242"},
                referer=checkout_path,
            ),
            302,
            "checkout pay",
        )
        thanks = paid.headers.get("location", "")
        if "session_id=" not in thanks:
            raise client.RequestFailed(f"checkout pay went to {thanks!r}, not the thank-you page")
        _expect(session.get("thanks page", thanks), 200, "thanks page")
        completed.append(found.group(1))

    give.__name__ = f"donor {number}"
    return give


def _gifts(url: str) -> dict:
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
        rows = db.execute(
            """
            SELECT d.checkout_session_id, d.status, d.foundation_id || '-' || d.receipt_number,
                   (SELECT count(*) FROM grants_journalentry e WHERE e.donation_id = d.id AND e.cause = 'donation'),
                   (SELECT count(*) FROM grants_webhookevent w
                     WHERE w.type = 'checkout.session.completed'
                       AND w.payload -> 'data' -> 'object' ->> 'id' = d.checkout_session_id)
            FROM grants_donation d JOIN grants_donor p ON p.id = d.donor_id
            WHERE p.email LIKE 'loadtest-%%'
            """
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture(scope="module")
def bench_database(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), databases.copy_of_test_database("load", with_wagtail_root=True) as url:
        yield url


def test_pages_and_donation_burst_under_gunicorn(bench_database):
    _burst(bench_database, nodes=1)


def test_pages_and_donation_burst_on_two_web_nodes(bench_database):
    """The same burst behind a round-robin balancer over two gunicorn nodes (one worker each, so
    the same processes as one node with two): sessions, CSRF, the cache and the task queue are
    shared, so a donor's steps may land on either node."""
    _burst(bench_database, nodes=2)


def _burst(url: str, *, nodes: int) -> None:
    # The shared cache of production (Redis), emptied first: every node and the worker see one.
    redis.Redis.from_url(BENCH_CACHE_URL).flushdb()
    env = server.portal_env(url, CACHE_URL=BENCH_CACHE_URL)
    server.run_python({**env, "DJANGO_DEBUG": "1"}, "manage.py", "seed_demo")
    targets = json.loads(server.run_python(env, "-m", "tests.bench.loadtest.demo_urls"))
    pages = [(name, path) for name, paths in targets["pages"].items() for path in paths]
    pages += [("donate page", path) for path in targets["donate"]]
    assert pages and targets["donate"], targets

    chooser = random.Random(3)
    completed = []
    scenarios = [_page_view(*chooser.choice(pages)) for _ in range(PAGE_VIEWS)]
    scenarios += [_donor(n, chooser.choice(targets["donate"]), completed) for n in range(DONORS)]
    chooser.shuffle(scenarios)

    probe = targets["pages"]["home"][0]
    with contextlib.ExitStack() as stack:
        bases = [
            stack.enter_context(server.gunicorn(env, workers=2 // nodes, probe=probe)) for _ in range(nodes)
        ]
        balancer = client.Balancer(bases) if nodes > 1 else None
        base = bases[0]
        # One of each page first, so each worker has loaded its templates before timing.
        warm = [_page_view(name, path) for name, path in dict(pages).items()]
        client.run(base, warm * 2 * nodes, threads=2, time_limit=TIME_LIMIT, nodes=balancer)
        # As in production, a task worker applies the stored Stripe events while the burst goes on.
        worker = server.start_python(
            env, "manage.py", "db_worker", "--no-startup-delay", "--no-reload", keep_output=False
        )
        try:
            timings, failures, elapsed = client.run(
                base, scenarios, threads=THREADS, time_limit=TIME_LIMIT, nodes=balancer
            )
        finally:
            server.stop(worker)
        if balancer is not None:
            print(f"\nrequests per node: {list(balancer.sent.values())}")
            assert min(balancer.sent.values()) > 0
    # What the worker had not reached yet when the burst ended is applied now, then checked.
    started = time.perf_counter()
    server.run_python(env, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload")
    drained_in = time.perf_counter() - started

    print(
        f"\n{len(timings):,} requests in {elapsed:.1f} s ({len(timings) / elapsed:.0f}/s), {THREADS} threads; "
        f"the events left in the queue after the burst were applied in {drained_in:.1f} s"
    )
    summary = client.report(timings)
    gifts = _gifts(url)

    errors = sum(line["errors"] for line in summary.values())
    recorded_once = [
        session
        for session in completed
        if session in gifts
        and gifts[session][0] == "completed"
        and gifts[session][1] is not None
        and gifts[session][2:] == (1, 1)
    ]
    receipts = [row[1] for row in gifts.values() if row[1] is not None]
    p95 = client.percentile([timing.seconds * 1000 for timing in timings], 0.95)
    holds = not errors and not failures and len(recorded_once) == len(completed) > 0
    print(
        f"load test ({nodes} web node{'s' if nodes > 1 else ''}): {len(timings):,} requests, {errors} errors, {len(failures)} failed scenarios, "
        f"p95 {p95:.0f} ms; {len(completed)}/{DONORS} donors completed (the rest not started within "
        f"{TIME_LIMIT} s), {len(recorded_once)} gifts recorded once (target: no errors, every gift once) "
        f"{'holds' if holds else 'fails'}"
    )
    assert not failures, failures[:5]
    assert errors == 0
    assert completed, "no donor got through"
    assert len(recorded_once) == len(completed), {
        s: gifts.get(s) for s in completed if s not in recorded_once
    }
    assert len(receipts) == len(set(receipts)), "receipt numbers are unique within a foundation"
