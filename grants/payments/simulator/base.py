"""The simulated Stripe's core: storage, idempotency keys, adversity, balance and events.

Objects are Stripe-shaped JSON in ``SimulatedStripeObject`` rows (one "platform" per
foundation). Everything that changes how the simulator behaves — its mode, scripted failures,
held events, the platform balance — is a row too, never process memory: the web process, the
worker and the test client share one simulator.

Two modes (``settings.STRIPE_SIMULATOR``, or ``SimulatedGateway.set_mode`` per foundation):

- "kind": every call answers at once and truthfully; events go out in order, once.
- "adverse": as unkind as Stripe's documented behaviour. A seeded random draw per call that
  moves money may fail it before doing anything, time out or answer 500 *after* doing the work
  (a 500 is saved for the key and replayed for 24 hours, as Stripe does), or leave the request
  in flight so that the same key answers 409; transfers beyond the platform balance are refused;
  events are delivered out of order and some twice.

Tests script the unkindness deterministically with ``SimulatedGateway.script`` (``fail_next`` is
the "before" case) and hold events for ``flush``.

Unlike real Stripe, the simulator's state lives in the caller's database transaction: if the
caller rolls back, what the simulator did in it disappears too (a scripted failure, once met,
stays met: see ``_adversity``). The portal's services call Stripe outside their transactions.
"""

import hashlib
import json
import random
import secrets
import string
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from grants.money import currency_exponent, to_minor_units
from grants.payments.credentials import simulated_credentials
from grants.payments.delivery import WebhookDelivery, deliver_after_commit
from grants.payments.gateway import PaymentError
from grants.payments.signing import sign_payload

from .models import SimulatedIdempotencyKey, SimulatedStripeObject

# Kinds a scripted failure can raise: what Stripe can answer to a call that is otherwise valid.
FAILURE_KINDS = ("card_declined", "network", "rate_limit", "insufficient_balance", "api")
# When a scripted failure strikes: before anything is done (nothing stored for the key), after
# the work is done (a timeout: the success is stored for the key; a 5xx: the 5xx is stored), or
# while the work is "still running" (the key stays in flight; the same key answers 409).
BEFORE, AFTER, IN_FLIGHT = "before", "after", "in_flight"
MOMENTS = (BEFORE, AFTER, IN_FLIGHT)
MODES = ("kind", "adverse")
# Stripe forgets idempotency keys after at least 24 hours (docs.stripe.com/api/idempotent_requests).
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# How many later requests with an in-flight key are answered 409 before the work completes, and
# how long Stripe takes at most: an older request in flight is finished by the next call to the
# platform, whoever makes it (nobody may ever retry the key).
IN_FLIGHT_CONFLICTS = 1
IN_FLIGHT_MAX = timedelta(seconds=30)
# The random adverse mode: how often a call that moves money goes wrong, by default.
DEFAULT_ADVERSE_RATE = 0.25

# Stripe's test card that is always declined (https://docs.stripe.com/testing#declined-payments).
DECLINED_CARD = "4000000000000002"

# The simulated processing fee: 2.9 % of the amount plus 30 minor units (30 cents), like Stripe's
# US card pricing; currencies without minor units (JPY) pay the percentage only, since 30 yen
# would not be "30 cents" of anything.
FEE_PERCENT = Decimal("2.9")
FEE_FIXED_MINOR_UNITS = 30

_ID_ALPHABET = string.ascii_letters + string.digits
# Marks a stored idempotent answer that is not a plain success (a saved 5xx, a request in flight).
_REQUEST_NOTE = "_sim_request"
# Cache key prefix of scripted failures already met (see ``SimulatorBase._adversity``).
_CONSUMED = "stripe_sim:consumed:"


def processing_fee(amount_minor: int, currency: str) -> int:
    """The simulated Stripe fee in minor units: 2.9 % (rounded half up) + 30 (0 for JPY and the like)."""
    fixed = FEE_FIXED_MINOR_UNITS if currency_exponent(currency) > 0 else 0
    percent = (Decimal(amount_minor) * FEE_PERCENT / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(int(percent) + fixed, amount_minor)


def new_id(prefix: str) -> str:
    """A Stripe-looking id: "tr_" + 24 random letters and digits (unguessable, so usable in URLs)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def _now() -> int:
    return int(timezone.now().timestamp())


def _metadata(metadata: Mapping | None) -> dict:
    # Stripe keeps metadata as strings; the simulator does the same so both read alike.
    return {str(key): str(value) for key, value in (metadata or {}).items()}


def _public(obj: dict) -> dict:
    """The object as Stripe shows it: without the simulator's private ``_sim`` notes."""
    return {key: value for key, value in obj.items() if key != "_sim"}


def _normalise_card(number: str) -> str:
    return "".join(ch for ch in str(number) if ch.isdigit())


def _encode_call(kwargs: dict) -> dict:
    # A call kept for later (a request in flight): Money as [amount, currency], the rest is JSON.
    return {
        key: {"__money__": [str(value.amount), str(value.currency)]} if isinstance(value, Money) else value
        for key, value in kwargs.items()
    }


def _decode_call(kwargs: dict) -> dict:
    return {
        key: Money(*value["__money__"]) if isinstance(value, dict) and "__money__" in value else value
        for key, value in kwargs.items()
    }


Deliverer = Callable[[WebhookDelivery], None]


class SimulatorBase:
    """Storage, idempotency, adversity, balance and events; the gateway's other parts build on it.

    ``deliver`` receives each signed event (a ``WebhookDelivery``); the default posts it to the
    foundation's webhook endpoint after the current transaction commits. Tests pass a list's
    ``append`` to look at the events instead.
    """

    def __init__(self, foundation, deliver: Deliverer | None = None):
        self.foundation = foundation
        self.platform = foundation.slug
        self.deliver = deliver or deliver_after_commit
        self._outbox: list[dict] | None = None
        # Set while finishing a request in flight: its work is done now, without new adversity.
        self._calm = False

    @classmethod
    def for_foundation(cls, foundation):
        return cls(foundation)

    # --- Mode and configuration (one row per platform) ---------------------------------------

    def _config_id(self) -> str:
        return f"simcfg_{self.platform}"

    def config(self) -> dict:
        """This platform's simulator settings: mode, seed, rate, held events, settlement currency."""
        row = SimulatedStripeObject.objects.filter(id=self._config_id()).first()
        data = dict(row.data) if row else {}
        data.setdefault("mode", getattr(settings, "STRIPE_SIMULATOR", "kind") or "kind")
        data.setdefault("seed", getattr(settings, "STRIPE_SIMULATOR_SEED", 0))
        data.setdefault("rate", DEFAULT_ADVERSE_RATE)
        data.setdefault("draws", 0)
        data.setdefault("hold_events", False)
        return data

    def _configure(self, **changes) -> dict:
        data = self.config()
        data.update(changes)
        SimulatedStripeObject.objects.update_or_create(
            id=self._config_id(),
            defaults={"platform": self.platform, "kind": "simulator_config", "data": data},
        )
        return data

    @property
    def adverse(self) -> bool:
        return self.config()["mode"] == "adverse"

    @classmethod
    def set_mode(cls, foundation, mode: str, *, seed: int | None = None, rate: float | None = None) -> None:
        """Switch ``foundation``'s simulated platform to "kind" or "adverse" (random, from ``seed``).

        ``rate`` is the share of calls that move money which go wrong in adverse mode.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        changes = {"mode": mode, "draws": 0}
        if seed is not None:
            changes["seed"] = seed
        if rate is not None:
            changes["rate"] = rate
        cls(foundation)._configure(**changes)

    @classmethod
    def set_settlement(cls, foundation, currency: str, exchange_rate) -> None:
        """Settle ``foundation``'s charges in ``currency`` (a USD platform taking EUR gifts):
        ``exchange_rate`` is what one unit of the charge's currency is worth in it."""
        cls(foundation)._configure(
            settlement={"currency": currency.lower(), "exchange_rate": str(exchange_rate)}
        )

    # --- Scripted adversity -------------------------------------------------------------------

    @classmethod
    def script(
        cls,
        foundation,
        kind: str,
        *,
        when: str = BEFORE,
        operation: str | None = None,
        count: int = 1,
        conflicts: int = IN_FLIGHT_CONFLICTS,
    ) -> None:
        """Make the next ``count`` calls (of ``operation``, a method name; any when ``None``) go wrong.

        ``when`` is "before" (``PaymentError(kind)``, nothing done, nothing stored for the key),
        "after" (the work is done and its events emitted, then ``PaymentError(kind)``: for
        "network" the success is stored for the key, for "api" Stripe saves the 500 and replays
        it to the key), or "in_flight" (the caller times out — "network" — while the work is
        still running: the next ``conflicts`` requests with the key get ``PaymentError("conflict")``,
        then the work completes; ``kind`` is ignored).
        """
        if kind not in FAILURE_KINDS:
            raise ValueError(f"kind must be one of {FAILURE_KINDS}")
        if when not in MOMENTS:
            raise ValueError(f"when must be one of {MOMENTS}")
        for _ in range(count):
            SimulatedStripeObject.objects.create(
                id=new_id("fail_"),
                platform=foundation.slug,
                kind="failure",
                data={"kind": kind, "operation": operation, "when": when, "conflicts": conflicts},
            )

    @classmethod
    def fail_next(cls, foundation, kind: str, *, operation: str | None = None, count: int = 1) -> None:
        """Make the next ``count`` calls fail before doing anything (``script`` with when="before").

        The failing call raises ``PaymentError(kind)``, creates nothing and stores no idempotent
        response, so a retry with the same key goes through.
        """
        cls.script(foundation, kind, when=BEFORE, operation=operation, count=count)

    def _adversity(self, operation: str, *, moves_money: bool) -> dict | None:
        """The failure this call meets, if any: a scripted one first, else a random adverse draw.

        A scripted failure is consumed by deleting its row and noting its id in the cache (shared
        by every process in production): a caller that lets the ``PaymentError`` roll back its
        transaction restores the row, and the note keeps it from failing the retry too.
        """
        if self._calm:
            return None
        pending = list(
            SimulatedStripeObject.objects.filter(platform=self.platform, kind="failure").order_by(
                "created_at", "id"
            )
        )
        consumed = cache.get_many([_CONSUMED + failure.id for failure in pending]) if pending else {}
        for failure in pending:
            if _CONSUMED + failure.id in consumed:
                failure.delete()
                continue
            if failure.data.get("operation") not in (None, operation):
                continue
            cache.set(_CONSUMED + failure.id, True, timeout=int(IDEMPOTENCY_KEY_TTL.total_seconds()))
            failure.delete()
            return failure.data
        if not moves_money or not self.adverse:
            return None
        config = self.config()
        self._configure(draws=config["draws"] + 1)
        # One generator per draw, from the seed and the draw's number: the same seed replays the
        # same unkindness whatever process makes the call.
        rng = random.Random(f"{config['seed']}:{config['draws']}")
        if rng.random() >= config["rate"]:
            return None
        when = rng.choice([BEFORE, AFTER, AFTER, IN_FLIGHT])
        kind = rng.choice(["network", "api"] if when != BEFORE else ["network", "api", "rate_limit"])
        return {"kind": kind, "operation": operation, "when": when, "conflicts": rng.randint(1, 2)}

    def _maybe_fail(self, operation: str) -> None:
        """Calls that move no money fail only before doing anything, and only when scripted."""
        self.finish_in_flight(older_than=IN_FLIGHT_MAX)
        failure = self._adversity(operation, moves_money=False)
        if failure is not None:
            raise PaymentError(failure["kind"], code="simulated_failure")

    # --- Storage ------------------------------------------------------------------------------

    def _save(self, kind: str, obj: dict) -> dict:
        SimulatedStripeObject.objects.update_or_create(
            id=obj["id"], defaults={"platform": self.platform, "kind": kind, "data": obj}
        )
        return obj

    def _get(self, kind: str, object_id: str, *, for_update: bool = False) -> dict:
        rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind=kind, id=object_id)
        if for_update:
            rows = rows.select_for_update()
        row = rows.first()
        if row is None:
            raise PaymentError("invalid_request", code="resource_missing")
        return row.data

    @contextmanager
    def _operation(self):
        """One call: its changes commit together, then its events go out (none if it failed)."""
        outer = self._outbox is not None
        if outer:
            # Finishing a request in flight from inside another call: one outbox for both.
            with transaction.atomic():
                yield
            return
        self._outbox = outbox = []
        try:
            with transaction.atomic():
                yield
        finally:
            self._outbox = None
        self._send(outbox)

    # --- Idempotency --------------------------------------------------------------------------

    def _idempotent(
        self, operation: str, method: str, path: str, params: dict, key: str, perform, call: dict
    ) -> dict:
        """Run ``perform(request)`` once per idempotency key, as Stripe does.

        Same key and same (method, path, params): the stored answer (a success, or the saved 500),
        nothing new, no event. Same key with anything else: ``idempotency_conflict``. A key whose
        first request is still in flight: ``conflict`` (409). Keys are forgotten after 24 hours.
        ``call`` is the method's keyword arguments, kept to finish a request left in flight.
        """
        if not key:
            raise ValueError("calls that move money need an idempotency key")
        if not self._calm:
            self.finish_in_flight(older_than=IN_FLIGHT_MAX)
        canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"), default=str)
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        existing = SimulatedIdempotencyKey.objects.filter(platform=self.platform, key=key).first()
        if existing is not None and existing.created_at <= timezone.now() - IDEMPOTENCY_KEY_TTL:
            # Forgotten: the request is performed again, a second transfer if it was one.
            existing.delete()
            existing = None
        if existing is not None:
            return self._replay(existing, fingerprint)
        failure = self._adversity(operation, moves_money=True)
        if failure and failure["when"] == BEFORE:
            raise PaymentError(failure["kind"], code="simulated_failure")
        if failure and failure["when"] == IN_FLIGHT:
            SimulatedIdempotencyKey.objects.create(
                platform=self.platform,
                key=key,
                method=method,
                path=path,
                fingerprint=fingerprint,
                response={
                    _REQUEST_NOTE: {
                        "state": IN_FLIGHT,
                        "operation": operation,
                        "call": _encode_call(call),
                        "conflicts": failure.get("conflicts", IN_FLIGHT_CONFLICTS),
                    }
                },
            )
            # The caller's connection timed out; Stripe is still working on it.
            raise PaymentError("network", code="simulated_timeout")
        with self._operation():
            try:
                with transaction.atomic():
                    record, created = SimulatedIdempotencyKey.objects.get_or_create(
                        platform=self.platform,
                        key=key,
                        defaults={"method": method, "path": path, "fingerprint": fingerprint, "response": {}},
                    )
            except IntegrityError:
                # Another request with the key committed between our read and our insert.
                record = SimulatedIdempotencyKey.objects.get(platform=self.platform, key=key)
                created = False
            if not created:
                return self._replay(record, fingerprint)
            response = perform({"id": new_id("req_"), "idempotency_key": key})
            if failure and failure["kind"] == "api":
                # Stripe saves the 500 for the key: the same key keeps answering it.
                record.response = {_REQUEST_NOTE: {"state": "error", "kind": "api", "status": 500}}
            else:
                record.response = response
            record.save(update_fields=["response"])
        if failure:
            raise PaymentError(failure["kind"], code="simulated_failure_after_work")
        return response

    def _replay(self, record: SimulatedIdempotencyKey, fingerprint: str) -> dict:
        if record.fingerprint != fingerprint:
            raise PaymentError("idempotency_conflict", code="idempotency_key_in_use")
        note = record.response.get(_REQUEST_NOTE) if isinstance(record.response, dict) else None
        if note is None:
            return record.response
        if note["state"] == "error":
            raise PaymentError(note["kind"], code="simulated_saved_error")
        # In flight: 409 for the next few requests, then the work completes.
        if note["conflicts"] > 0:
            note["conflicts"] -= 1
            record.save(update_fields=["response"])
            raise PaymentError("conflict", code="idempotency_key_in_use")
        return self._finish(record)

    def _finish(self, record: SimulatedIdempotencyKey) -> dict:
        """Complete a request left in flight: its work is done now, under its key."""
        note = record.response[_REQUEST_NOTE]
        record.delete()
        self._calm = True
        try:
            getattr(self, note["operation"])(**_decode_call(note["call"]))
        finally:
            self._calm = False
        return SimulatedIdempotencyKey.objects.get(platform=self.platform, key=record.key).response

    def finish_in_flight(self, *, older_than: timedelta | None = None) -> int:
        """Complete the requests of this platform still in flight (all, or those started more
        than ``older_than`` ago), as Stripe eventually does; returns how many."""
        finished = 0
        # Only answers that are not plain successes carry the note (saved 500s, requests in flight).
        records = SimulatedIdempotencyKey.objects.filter(
            platform=self.platform, response__has_key=_REQUEST_NOTE
        )
        if older_than is not None:
            records = records.filter(created_at__lt=timezone.now() - older_than)
        for record in records.order_by("created_at"):
            if (
                isinstance(record.response, dict)
                and record.response.get(_REQUEST_NOTE, {}).get("state") == IN_FLIGHT
            ):
                self._finish(record)
                finished += 1
        return finished

    # --- Platform balance ---------------------------------------------------------------------

    def _balance_id(self) -> str:
        return f"bal_{self.platform}"

    def balance(self) -> dict[str, int]:
        """The platform's available balance in minor units, by currency (lower case)."""
        row = SimulatedStripeObject.objects.filter(id=self._balance_id()).first()
        return {entry["currency"]: entry["amount"] for entry in (row.data["available"] if row else [])}

    def _move_balance(self, currency: str, amount: int) -> None:
        available = self.balance()
        available[currency] = available.get(currency, 0) + amount
        self._save(
            "balance",
            {
                "id": self._balance_id(),
                "object": "balance",
                "available": [
                    {"amount": value, "currency": code, "source_types": {"card": value}}
                    for code, value in sorted(available.items())
                ],
                "livemode": False,
                "pending": [
                    {"amount": 0, "currency": code, "source_types": {"card": 0}} for code in sorted(available)
                ],
            },
        )

    def _enforces_balance(self) -> bool:
        return self.adverse or self.config().get("enforce_balance", False)

    @classmethod
    def enforce_balance(cls, foundation, enforce: bool = True) -> None:
        """Refuse transfers beyond the platform balance even in kind mode (adverse mode always does)."""
        cls(foundation)._configure(enforce_balance=enforce)

    def top_up(self, amount: Money) -> dict:
        """Add funds to the platform balance, as a test-mode top-up does; emits ``topup.succeeded``."""
        value, currency = to_minor_units(amount), str(amount.currency).lower()
        with self._operation():
            topup = self._save(
                "topup",
                {
                    "id": new_id("tu_"),
                    "object": "topup",
                    "amount": value,
                    "currency": currency,
                    "created": _now(),
                    "description": "Simulated top-up",
                    "livemode": False,
                    "metadata": {},
                    "status": "succeeded",
                },
            )
            self._move_balance(currency, value)
            self._emit("topup.succeeded", topup)
        return topup

    # --- Events -------------------------------------------------------------------------------

    def _emit(self, event_type: str, obj: dict, *, account: str | None = None, request=None, previous=None):
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": settings.STRIPE_API_VERSION,
            "created": _now(),
            "data": {"object": _public(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": request or {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        if previous:
            event["data"]["previous_attributes"] = previous
        if account:
            # Only Connect events (from a connected account) name the account.
            event["account"] = account
        SimulatedStripeObject.objects.create(id=event["id"], platform=self.platform, kind="event", data=event)
        self._outbox.append(event)
        return event

    def _send(self, events: list[dict]) -> None:
        config = self.config()
        if config["hold_events"]:
            for event in events:
                SimulatedStripeObject.objects.create(
                    id=new_id("held_"), platform=self.platform, kind="held_event", data={"event": event["id"]}
                )
            return
        if config["mode"] == "adverse" and events:
            # Stripe does not promise order or a single delivery: shuffle and repeat some.
            rng = random.Random(f"{config['seed']}:events:{events[0]['id']}")
            events = self._unkind_order(events, rng)
        for event in events:
            self.deliver(self._signed(event))

    @staticmethod
    def _unkind_order(events: list[dict], rng: random.Random, duplicate: bool = True) -> list[dict]:
        events = list(events)
        if duplicate:
            events += [event for event in events if rng.random() < 0.5]
        rng.shuffle(events)
        return events

    def _signed(self, event: dict) -> WebhookDelivery:
        credentials = simulated_credentials(self.foundation)
        connect = "account" in event
        secret = credentials.connect_webhook_secret if connect else credentials.webhook_secret
        # Keys sorted: PostgreSQL's jsonb does not keep key order, and a redelivered event must be
        # byte-for-byte the event first sent.
        payload = json.dumps(event, indent=2, sort_keys=True).encode()
        return WebhookDelivery(
            foundation_slug=self.platform,
            event=event,
            payload=payload,
            signature=sign_payload(payload, secret),
            connect=connect,
        )

    @classmethod
    def hold_events(cls, foundation, hold: bool = True) -> None:
        """Keep ``foundation``'s events until ``flush`` (``hold=False``: deliver as they happen again)."""
        cls(foundation)._configure(hold_events=hold)

    def held_events(self) -> list[dict]:
        """The events waiting for ``flush``, in the order they were emitted."""
        held = SimulatedStripeObject.objects.filter(platform=self.platform, kind="held_event")
        return [self._get("event", row.data["event"]) for row in held.order_by("created_at", "id")]

    def flush(self, *, shuffle: int | None = None, duplicate: bool = False) -> list[WebhookDelivery]:
        """Deliver the held events: in another order when ``shuffle`` (a seed) is given, some twice
        when ``duplicate``. Requests still in flight are finished first (their events join in).
        Returns the deliveries in the order they were made.
        """
        self.finish_in_flight()
        held = SimulatedStripeObject.objects.filter(platform=self.platform, kind="held_event")
        rows = list(held.order_by("created_at", "id"))
        events = [self._get("event", row.data["event"]) for row in rows]
        held.filter(id__in=[row.id for row in rows]).delete()
        if shuffle is not None:
            events = self._unkind_order(events, random.Random(shuffle), duplicate=duplicate)
        elif duplicate:
            events = events + events
        deliveries = [self._signed(event) for event in events]
        for delivery in deliveries:
            self.deliver(delivery)
        return deliveries

    def events(self, type: str | None = None) -> list[dict]:
        """Every event emitted for this foundation, oldest first (of one ``type`` if given)."""
        rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind="event").order_by(
            "created_at"
        )
        events = [row.data for row in rows]
        return [event for event in events if type is None or event["type"] == type]

    def redeliver(self, event_id: str) -> WebhookDelivery:
        """Send a stored event again, freshly signed (as Stripe's retries are); returns the delivery."""
        delivery = self._signed(self._get("event", event_id))
        self.deliver(delivery)
        return delivery
