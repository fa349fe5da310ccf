"""Seed a bench database with pending gifts and write the Stripe events that complete them.

Run in the bench's environment (``DATABASE_URL`` of the bench database)::

    python -m tests.bench.loadtest.webhook_seed <count> <output.json>

Creates a foundation and fund, ``count`` pending one-time gifts as ``start_donation`` leaves them
(each with its Checkout session id), and in the simulated Stripe the payment intent, charge and
balance transaction (with the fee) that paying on Checkout would have created — in bulk, so that
thousands take seconds. Writes ``{"slug", "secret", "events": [payload, ...]}``: one
``checkout.session.completed`` event per gift, serialised as the simulator sends it, and the
foundation's platform webhook secret to sign them with at send time.
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from djmoney.money import Money  # noqa: E402

from grants.models import (  # noqa: E402
    Donation,
    Donor,
    Foundation,
    Fund,
    ProgramType,
)
from grants.payments.credentials import credentials_for  # noqa: E402
from grants.payments.simulator.gateway import processing_fee  # noqa: E402
from grants.payments.simulator.models import SimulatedStripeObject  # noqa: E402
from grants.services import ledger  # noqa: E402

SLUG = "bench-webhooks"
DONORS = 500


def _event(n: int, donation: Donation, session: dict, created: int) -> dict:
    return {
        "id": f"evt_bench_{n:06d}",
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": created,
        "data": {"object": session},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
    }


def seed(count: int) -> dict:
    now = int(timezone.now().timestamp())
    with transaction.atomic():
        foundation = Foundation.objects.create(
            name="Bench Webhooks Foundation", slug=SLUG, legal_name="Bench Webhooks Foundation, Inc.",
            tax_id="12-3456789", contact_email="grants@example.org",
        )  # fmt: skip
        fund = Fund.objects.create(
            foundation=foundation, name="Rapid Response Fund", slug="rapid-response",
            program_type=ProgramType.DEPORTATION_DEFENSE, currency="USD", fundraising_goal=Money(100000, "USD"),
        )  # fmt: skip
        ledger.accounts_for(fund)
        donors = Donor.objects.bulk_create(
            [
                Donor(foundation=foundation, email=f"donor{n}@example.org", name=f"Donor {n}")
                for n in range(DONORS)
            ]
        )
        donations = Donation.objects.bulk_create(
            [
                Donation(
                    foundation=foundation,
                    fund=fund,
                    donor=donors[n % DONORS],
                    amount=Money(10 + n % 90, "USD"),
                    gross=Money(10 + n % 90, "USD"),
                    checkout_session_id=f"cs_test_bench_{n:06d}",
                )  # fmt: skip
                for n in range(count)
            ],
            batch_size=1000,
        )
        objects, events = [], []
        for n, donation in enumerate(donations):
            minor = int(donation.gross.amount * 100)
            fee = processing_fee(minor, "USD")
            intent, charge, txn = f"pi_bench_{n:06d}", f"ch_bench_{n:06d}", f"txn_bench_{n:06d}"
            session = {
                "id": donation.checkout_session_id, "object": "checkout.session", "amount_subtotal": minor,
                "amount_total": minor, "currency": "usd", "customer": f"cus_bench_{n:06d}",
                "customer_details": {"email": donation.donor.email, "name": None},
                "customer_email": donation.donor.email, "created": now, "expires_at": now + 86400,
                "livemode": False, "metadata": {"donation": str(donation.pk), "fund": str(fund.pk)},
                "mode": "payment", "payment_intent": intent, "payment_status": "paid", "status": "complete",
                "subscription": None, "success_url": "http://127.0.0.1/en/donate/thanks/",
                "cancel_url": "http://127.0.0.1/en/donate/", "url": None,
            }  # fmt: skip
            for kind, data in (
                ("checkout.session", session),
                ("payment_intent", {"id": intent, "object": "payment_intent", "amount": minor,
                                    "currency": "usd", "latest_charge": charge, "status": "succeeded"}),
                ("charge", {"id": charge, "object": "charge", "amount": minor, "amount_refunded": 0,
                            "balance_transaction": txn, "currency": "usd", "paid": True,
                            "payment_intent": intent, "status": "succeeded"}),
                ("balance_transaction", {"id": txn, "object": "balance_transaction", "amount": minor,
                                         "currency": "usd", "fee": fee, "net": minor - fee,
                                         "source": charge, "type": "charge"}),
            ):  # fmt: skip
                objects.append(SimulatedStripeObject(id=data["id"], platform=SLUG, kind=kind, data=data))
            events.append(json.dumps(_event(n, donation, session, now), indent=2, sort_keys=True))
        SimulatedStripeObject.objects.bulk_create(objects, batch_size=2000)
    return {"slug": SLUG, "secret": credentials_for(foundation).webhook_secret, "events": events}


if __name__ == "__main__":
    count, output = int(sys.argv[1]), sys.argv[2]
    with open(output, "w") as handle:
        json.dump(seed(count), handle)
