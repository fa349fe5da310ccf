"""A stateful property test of the money paths under a Stripe as unkind as the real one.

A seeded random driver (bounded for CI) plays finance officers, Stripe and the network against
each other: releases (double clicks, two officers), Stripe answering with errors before or
*after* doing the work (timeouts, 5xx, 409), crashes between Stripe's answer and our write,
webhook events delivered late, twice and out of order, the sweep, reversals at Stripe, checks
paid after a reversal, gifts with partial refunds and disputes. After every step:

- at Stripe, at most one live transfer per installment;
- every fund's balances equal the raw SQL sum of its journal lines;
- the ledger never booked a payout or a return Stripe did not make;
- no event is stuck: each applied, ignored with a reason, or waiting for the one it depends on;
and whenever everything has been said (all events delivered, the sweep run):
- the cash the ledger moved for payouts equals Stripe's transfers net of reversals;
- the gifts the ledger holds equal Stripe's charges net of refunds and disputed money;
- no event is left unsettled (each applied, ignored with a reason, or flagged), and none flagged.

Runs on PostgreSQL in CI (transactional: every step commits for real) and on SQLite.
"""

import datetime
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Disbursement,
    InstallmentStatus,
    JournalLine,
    PayeeAccount,
    WebhookEvent,
)
from grants.payments.gateway import PaymentError
from grants.payments.simulator import base as simulator
from grants.payments.simulator.gateway import SimulatedGateway
from grants.payments.simulator.models import SimulatedStripeObject
from grants.services import awards, disbursements, donations, installments, ledger, payments, payouts
from grants.services.errors import DomainError
from tests import pages
from tests.grants.money_fixtures import award_for, fund_with

pytestmark = pytest.mark.django_db(transaction=True)

SEEDS = range(4)
STEPS = 50
SETTLED_STATES = {"processed", "ignored"}


@pytest.fixture(autouse=True)
def _page_tree(transactional_db):
    pages.build_site()


class UnkindStripe:
    """The simulated Stripe, made unkind: each transfer request may fail before doing anything,
    or do the work and then fail (the caller never learns it worked); events are held back."""

    def __init__(self, rng: random.Random, monkeypatch):
        self.rng = rng
        self.held = []
        self.crash_after_answer = False
        self.refunded_charges = set()
        self.real_create_transfer = SimulatedGateway.create_transfer
        self.real_record_answer = disbursements.record_answer
        monkeypatch.setattr(simulator, "deliver_after_commit", self.held.append)
        unkind = self

        def create_transfer(gateway, **params):  # a plain function: becomes the gateway's method
            return unkind._create_transfer(gateway, **params)

        monkeypatch.setattr(SimulatedGateway, "create_transfer", create_transfer)
        monkeypatch.setattr(disbursements, "record_answer", self._record_answer)

    def _create_transfer(self, gateway, **params):
        roll = self.rng.random()
        if roll < 0.10:
            raise PaymentError(self.rng.choice(["network", "api", "conflict", "rate_limit"]))
        if roll < 0.15:
            raise PaymentError("insufficient_balance")
        result = self.real_create_transfer(gateway, **params)
        if roll < 0.50:
            raise PaymentError(self.rng.choice(["network", "api", "conflict"]))  # after doing the work
        if roll < 0.60:
            self.crash_after_answer = True
        return result

    def _record_answer(self, disbursement, transfer):
        if self.crash_after_answer:
            self.crash_after_answer = False
            raise RuntimeError("the server died before writing Stripe's answer down")
        return self.real_record_answer(disbursement, transfer)

    def deliver(self, client: Client, *, everything: bool = False) -> None:
        """Deliver some (or all) held events, shuffled, some twice, as Stripe's retries do."""
        if not self.held:
            return
        batch = (
            list(self.held) if everything else self.rng.sample(self.held, self.rng.randint(1, len(self.held)))
        )
        for delivery in batch:
            self.held.remove(delivery)
        batch += [d for d in batch if self.rng.random() < 0.3]
        self.rng.shuffle(batch)
        for delivery in batch:
            path = f"/stripe/webhooks/{delivery.foundation_slug}/{'connect/' if delivery.connect else ''}"
            response = client.post(
                path, data=delivery.payload, content_type="application/json",
                HTTP_STRIPE_SIGNATURE=delivery.signature,
            )  # fmt: skip
            assert response.status_code == 200, response.content


# --- Invariants --------------------------------------------------------------------------------


def _objects(kind):
    return [row.data for row in SimulatedStripeObject.objects.filter(kind=kind)]


def at_most_one_live_transfer_per_installment():
    live = Counter(
        t["metadata"].get("installment")
        for t in _objects("transfer")
        if t["metadata"].get("installment") and t.get("amount_reversed", 0) < t["amount"]
    )
    assert all(count == 1 for count in live.values()), live


def balances_equal_raw_sums(fund):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.kind, SUM(l.amount) FROM grants_journalline l "
            "JOIN grants_ledgeraccount a ON a.id = l.account_id WHERE a.fund_id = %s GROUP BY a.kind",
            [fund.pk],
        )
        raw = {kind: Decimal(str(total)).quantize(Decimal("0.01")) for kind, total in cursor.fetchall()}
    balances = ledger.balances(fund)
    for kind, total in raw.items():
        signed = balances.by_account.get(kind, Money(0, "USD")).amount
        assert abs(signed) == abs(total), (kind, signed, total)
        assert signed.as_tuple().exponent >= -2, signed  # no float noise


def payout_cash_matches_stripe(fund):
    net_at_stripe = sum(t["amount"] - t.get("amount_reversed", 0) for t in _objects("transfer"))
    moved = sum(
        line.amount.amount
        for line in JournalLine.objects.filter(
            account__fund=fund, account__kind=AccountKind.PROCESSOR_CASH, entry__disbursement__isnull=False
        )
    )
    assert -moved * 100 == net_at_stripe, (moved, net_at_stripe)


def never_booked_what_stripe_did_not_do(fund):
    """At any moment: the payouts the ledger booked, and the money it booked back, are no more than
    Stripe sent and took back (what Stripe did and has not told yet is booked later)."""
    transfers = _objects("transfer")
    lines = JournalLine.objects.filter(
        account__fund=fund, account__kind=AccountKind.PROCESSOR_CASH, entry__disbursement__isnull=False
    )
    out = -sum((line.amount.amount for line in lines if line.amount.amount < 0), Decimal(0))
    back = sum((line.amount.amount for line in lines if line.amount.amount > 0), Decimal(0))
    assert out * 100 <= sum(t["amount"] for t in transfers), (out, transfers)
    assert back * 100 <= sum(t.get("amount_reversed", 0) for t in transfers), (back, transfers)


def no_event_stuck():
    """Every event the portal received was applied, ignored with a reason, or waits for the one it
    depends on; none is left "received" and none was flagged."""
    statuses = set(WebhookEvent.objects.values_list("status", flat=True))
    assert statuses <= SETTLED_STATES | {"waiting"}, list(
        WebhookEvent.objects.exclude(status__in=SETTLED_STATES).values_list("type", "status", "note")
    )


def gifts_match_stripe(fund):
    charges = _objects("charge")
    withdrawn = sum(d["amount"] for d in _objects("dispute") if d["status"] != "won")
    at_stripe = sum(c["amount"] - c.get("amount_refunded", 0) for c in charges) - withdrawn
    balances = ledger.balances(fund)
    in_books = (balances.donations - balances.refunds).amount
    assert in_books * 100 == at_stripe, (in_books, at_stripe)


def paid_installments_match_the_books(fund, made):
    """What the ledger says left the fund for grants equals the installments paid (by Stripe or
    by check, a reversed one counting only once it is paid again)."""
    paid = sum(
        (i.amount for award in made for i in award.installments.filter(status=InstallmentStatus.PAID)),
        Money(0, "USD"),
    )
    assert ledger.balances(fund).paid == paid, (ledger.balances(fund).paid, paid)


def every_event_settled():
    statuses = Counter(WebhookEvent.objects.values_list("status", flat=True))
    assert set(statuses) <= SETTLED_STATES, (
        statuses,
        list(WebhookEvent.objects.exclude(status__in=SETTLED_STATES).values_list("type", "status", "note")),
    )


# --- The driver ----------------------------------------------------------------------------------


def _setup(world):
    fund_with(world, 50000)
    made = []
    schedule = [
        (datetime.date(2026, 2, 1), Money(300, "USD")),
        (datetime.date(2026, 2, 15), Money(620, "USD")),
    ]
    for _ in range(5):
        award = award_for(world, 920, schedule=schedule)
        awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
        made.append(award)
    installments.mark_due_installments(today=datetime.date(2026, 3, 1))
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    payee = PayeeAccount.objects.get()
    SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id)
    return made


def _give(world, rng):
    donation, _url = donations.start_donation(
        fund=world["fund"], amount=Money(rng.choice([25, 50, 100]), "USD"), monthly=False, cover_fee=False,
        anonymous=False, name="Rosa", email="rosa@example.org", language="es",
        success_url="/thanks/", cancel_url="/cancel/",
    )  # fmt: skip
    SimulatedGateway(world["foundation"]).complete_checkout(donation.checkout_session_id)
    return donation


def _step(world, rng, stripe: UnkindStripe, client, made):
    gateway = SimulatedGateway(world["foundation"])
    all_installments = [i for award in made for i in award.installments.all()]  # fresh each step
    action = rng.choice(
        ["release", "release", "release", "release", "deliver", "deliver", "sweep", "reverse", "check",
         "lift_hold", "give", "refund", "dispute", "close_dispute"]
    )  # fmt: skip
    try:
        if action == "release":
            # Mostly what is still to pay (where a second transfer would hurt), now and then a paid one.
            open_ = [i for i in all_installments if i.status != InstallmentStatus.PAID]
            installment = rng.choice(open_ if open_ and rng.random() < 0.8 else all_installments)
            payments.release_installment(installment, by=world[rng.choice(["finance", "finance2"])])
        elif action == "deliver":
            stripe.deliver(client)
        elif action == "sweep":
            payouts.settle_open_disbursements(older_than=datetime.timedelta(0))
        elif action == "reverse":
            paid = [t for t in _objects("transfer") if not t.get("amount_reversed")]
            if paid:
                transfer = rng.choice(paid)
                gateway.reverse_transfer(
                    transfer_id=transfer["id"],
                    amount=None,
                    metadata={},
                    idempotency_key=f"rev:{transfer['id']}",
                )
        elif action == "check":
            installment = rng.choice(all_installments)
            installment.refresh_from_db()
            installments.record_payment_outside_processor(
                installment, by=world["finance"], paid_on=datetime.date(2026, 3, 5),
                reference=f"CHK-{installment.pk}-{rng.randint(1, 10**6)}",
            )  # fmt: skip
        elif action == "lift_hold":
            installment = rng.choice(all_installments)
            installment.refresh_from_db()
            installments.lift_hold(installment, by=world["finance"], today=datetime.date(2026, 3, 5))
        elif action == "give":
            _give(world, rng)
        elif action == "refund":
            charges = [
                c for c in _objects("charge") if c["amount_refunded"] < c["amount"] and not c["disputed"]
            ]
            if charges:
                charge = rng.choice(charges)
                stripe.refunded_charges.add(charge["id"])
                gateway.create_refund(
                    payment_intent=charge["payment_intent"], amount=Money(5, "USD"), metadata={},
                    idempotency_key=f"refund:{charge['id']}:{charge['amount_refunded']}",
                )  # fmt: skip
        elif action == "dispute":
            # Not a charge the driver asked to refund: a refund still in flight at Stripe would
            # complete after the dispute, which the portal flags for a person (by design).
            charges = [
                c for c in _objects("charge") if not c["disputed"] and c["id"] not in stripe.refunded_charges
            ]
            if charges:
                gateway.open_dispute(rng.choice(charges)["id"])
        elif action == "close_dispute":
            open_ = [d for d in _objects("dispute") if d["status"] == "needs_response"]
            if open_:
                gateway.close_dispute(rng.choice(open_)["charge"], rng.choice(["won", "lost"]))
    except (DomainError, RuntimeError):
        pass  # refused, or Stripe/the server failed: the invariants say whether that was safe
    return action


@pytest.mark.parametrize("mode", ["kind", "adverse"])
@pytest.mark.parametrize("seed", SEEDS)
def test_money_stays_right_under_an_unkind_stripe(world, monkeypatch, seed, mode):
    """``adverse``: on top of the driver's own unkindness, the simulator's adverse mode (requests
    left in flight answering 409, work done before a timeout or a saved 500, a platform balance
    that refuses transfers beyond it)."""
    rng = random.Random(seed)
    made = _setup(world)
    stripe = UnkindStripe(rng, monkeypatch)
    if mode == "adverse":
        SimulatedGateway.set_mode(world["foundation"], "adverse", seed=seed, rate=0.3)
        SimulatedGateway(world["foundation"]).top_up(Money(2500, "USD"))
    client = Client()
    fund = world["fund"]
    history = []

    for _ in range(STEPS):
        history.append(_step(world, rng, stripe, client, made))
        at_most_one_live_transfer_per_installment()
        balances_equal_raw_sums(fund)
        never_booked_what_stripe_did_not_do(fund)
        no_event_stuck()

    # Everything is said: Stripe finishes what it was doing, its events arrive, and the sweep
    # settles what Stripe left unsaid.
    monkeypatch.setattr(SimulatedGateway, "create_transfer", stripe.real_create_transfer)
    SimulatedGateway.set_mode(world["foundation"], "kind")
    SimulatedGateway(world["foundation"]).finish_in_flight()
    for _ in range(3):
        stripe.deliver(client, everything=True)
        payouts.settle_open_disbursements(older_than=datetime.timedelta(0))
    stripe.deliver(client, everything=True)

    at_most_one_live_transfer_per_installment()
    balances_equal_raw_sums(fund)
    payout_cash_matches_stripe(fund)
    gifts_match_stripe(fund)
    paid_installments_match_the_books(fund, made)
    every_event_settled()
    unsettled = Disbursement.objects.filter(status__in=disbursements.OPEN_STATES)
    assert not unsettled.exists(), (list(unsettled.values_list("pk", "status")), history)
