"""Stripe's webhook endpoints: verify, store once, answer, then apply each event with its handler.

Two endpoints per foundation, each with its own signing secret: the platform endpoint (events
of the foundation's own account: transfers, donations) and the Connect endpoint (events of the
grantees' connected accounts: ``account.updated``). The signature is checked on the raw body
with a 300 s tolerance; anything wrong (or a payload without an event's envelope) is a 400 and
stores nothing. Each event is stored once by its id ("received") and answered; a task then applies
it under a lock on its row, once, so a replay or a retried task changes nothing.

Handlers receive the stored ``WebhookEvent`` (not yet saved with its final status) and return
``(status, note)``. An event we cannot trust (wrong livemode, amount, currency or destination)
is stored "flagged" for a person to look at and answered 200, so Stripe stops retrying.
"""

import json
import logging
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tasks.base import TaskResultStatus
from moneyed import CurrencyDoesNotExist

from grants.middleware import reads_raw_body
from grants.models import Foundation, WebhookEvent, WebhookEventStatus
from grants.payments.credentials import credentials_for
from grants.services import donations, payouts

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
PLATFORM, CONNECT = "platform", "connect"
RECEIVED, PROCESSED, IGNORED, FLAGGED = (
    WebhookEventStatus.RECEIVED,
    WebhookEventStatus.PROCESSED,
    WebhookEventStatus.IGNORED,
    WebhookEventStatus.FLAGGED,
)


# --- Handlers: donations (stored only, for now; the donations issue fills these in) ----------


def not_handled_yet(event: WebhookEvent) -> tuple[str, str]:
    return IGNORED, "donation events are not handled yet"


DONATION_HANDLERS = {
    "checkout.session.completed": donations.on_checkout_completed,
    "invoice.paid": donations.on_invoice_paid,
    "charge.refunded": donations.on_charge_refunded,
    "charge.dispute.created": donations.on_dispute_created,
    "charge.dispute.closed": donations.on_dispute_closed,
    "customer.subscription.deleted": donations.on_subscription_deleted,
}

HANDLERS = {**DONATION_HANDLERS, **payouts.HANDLERS}


# --- The view --------------------------------------------------------------------------------


def _process(event: WebhookEvent) -> None:
    expected_livemode = bool(getattr(settings, "STRIPE_LIVEMODE", False))
    if event.livemode != expected_livemode:
        event.status, event.note = (
            FLAGGED,
            f"livemode {event.livemode} on a portal set to {expected_livemode}",
        )
        return
    handler = HANDLERS.get(event.type)
    if handler is None:
        event.status, event.note = IGNORED, "event type not handled"
        return
    event.status, note = handler(event)
    event.note = note[:500]


# What a handler raises on an object of the wrong shape (a missing key, a string for a number, a
# number too big for a column, an unknown currency): the event is flagged, not answered with a 500.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, DataError)
MALFORMED += (CurrencyDoesNotExist,)
MAX_EVENT_TIME = 2**63 - 1


def _not_json(constant: str):
    """NaN and Infinity are not JSON (Python reads them; no database stores them)."""
    raise ValueError(f"{constant} is not JSON")


def _well_formed(data) -> bool:
    """Whether a verified payload has the envelope of a Stripe event: an id, a type, the time and
    ``data.object``, of the types and sizes we store."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return False
    event_id, kind = data.get("id"), data.get("type", "")
    account, created = data.get("account") or "", data.get("created") or 0
    texts_ok = all(
        isinstance(text, str) and len(text) <= limit and "\x00" not in text
        for text, limit in ((event_id, 64), (kind, 80), (account, 64))
    )
    return (
        texts_ok
        and bool(event_id)
        and isinstance(created, int)
        and not isinstance(created, bool)
        and 0 <= created <= MAX_EVENT_TIME
        and isinstance(data["data"].get("object"), dict)
    )


def receive(request, foundation: str, endpoint: str) -> HttpResponse:
    """Verify, store once, answer at once; the event is applied by ``apply_webhook_event``.

    Intake does the least work that makes the event safe: its signature is checked and it is
    committed under its unique id (a replay is acknowledged and changes nothing). Applying it
    (ledger entries, receipts, state changes) is a task, so a burst of events after a raid
    never waits on each other's work. With the demo's and the tests' immediate task backend the
    task runs before the answer is sent, and the answer says what became of the event.
    """
    foundation_row = Foundation.objects.filter(slug=foundation).first()
    if foundation_row is None:
        raise Http404
    credentials = credentials_for(foundation_row)
    secret = credentials.connect_webhook_secret if endpoint == CONNECT else credentials.webhook_secret
    header = request.headers.get("Stripe-Signature", "")
    payload = request.body
    try:
        # TypeError: a signature with non-ASCII characters; RecursionError: absurdly nested JSON.
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_SECONDS)
        data = json.loads(payload, parse_constant=_not_json)
    except (ValueError, TypeError, RecursionError, stripe.SignatureVerificationError):
        return HttpResponse("invalid signature or payload", status=400, content_type="text/plain")
    if not _well_formed(data):
        return HttpResponse("not an event", status=400, content_type="text/plain")
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=data["id"],
                foundation=foundation_row,
                endpoint=endpoint,
                type=data.get("type", ""),
                livemode=bool(data.get("livemode")),
                account=data.get("account") or "",
                created=int(data.get("created") or 0),
                payload=data,
                status=RECEIVED,
            )
    except IntegrityError:
        if WebhookEvent.objects.filter(event_id=data["id"]).exists():
            return HttpResponse("already processed", content_type="text/plain")
        raise
    except DataError:  # e.g. a NUL character PostgreSQL cannot store in the payload
        return HttpResponse("event cannot be stored", status=400, content_type="text/plain")
    return HttpResponse(enqueue_apply(event.pk) or RECEIVED, content_type="text/plain")


def enqueue_apply(event_pk: int) -> str | None:
    """Queue the event to be applied; its final status when the backend ran the task at once.

    The event row is committed: a worker can always find it.

    Should queueing fail, the event stays "received" and ``apply_pending_webhook_events`` (run by
    ``manage.py run_daily`` and ``manage.py apply_webhook_events``) applies it later.
    """
    from grants.tasks import apply_webhook_event

    try:
        result = apply_webhook_event.enqueue(event_id=event_pk)
    except Exception:  # the queue is down: Stripe gets its answer, the sweep applies the event
        logger.exception("Stripe event row %s stored but not queued", event_pk)
        return None
    # Ran at once (immediate backend) and succeeded: say what became of the event. A task that
    # failed leaves the event "received" for the sweep.
    return result.return_value if result.status == TaskResultStatus.SUCCESSFUL else None


DEADLOCK_RETRIES = 3


def apply_event(event_pk: int) -> str | None:
    """Apply one stored event exactly once, retrying when PostgreSQL breaks a deadlock.

    An event's handler locks rows (the disbursement, the fund) that a person's action may be
    locking in another order at the same moment; PostgreSQL then aborts one of the two
    transactions ("deadlock detected"), and the documented remedy is to run it again. The
    event's transaction rolled back whole, so a retry starts from the same state.
    """
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _apply_event_once(event_pk)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != "40P01" or attempt == DEADLOCK_RETRIES - 1:
                raise
            logger.warning("Stripe event row %s: deadlock, applying again", event_pk)
    return None


def _apply_event_once(event_pk: int) -> str | None:
    """Apply one stored event exactly once; return its final status (``None`` if already applied).

    The row is locked for the whole application, and only an event still "received" is applied,
    so two workers (or a retried task) can never apply it twice. A handler that fails on an
    object of the wrong shape rolls back its own effects; the event is flagged for a person.
    """
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(of=("self",))
            .select_related("foundation")
            .filter(pk=event_pk, status=RECEIVED)
            .first()
        )
        if event is None:
            return None
        try:
            with transaction.atomic():
                _process(event)
        except MALFORMED as error:
            # Signed, yet not shaped as Stripe documents it: none of its effects are kept, the
            # event is kept for a person to look at.
            event.status, event.note = FLAGGED, f"unreadable {event.type} event ({type(error).__name__})"
        event.save(update_fields=["status", "note"])
    if event.status == FLAGGED:
        logger.warning("Stripe event %s (%s) flagged: %s", event.event_id, event.type, event.note)
    return event.status


def apply_pending(*, older_than_seconds: int = 60) -> int:
    """Apply events left "received" (their task was lost); return how many were applied."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = WebhookEvent.objects.filter(status=RECEIVED, received_at__lt=cutoff).order_by("pk")
    return sum(1 for pk in pending.values_list("pk", flat=True).iterator() if apply_event(pk) is not None)


@csrf_exempt
@require_POST
@reads_raw_body
def platform_webhook(request, foundation: str):
    """Events of the foundation's own Stripe account (signed with its platform secret)."""
    return receive(request, foundation, PLATFORM)


@csrf_exempt
@require_POST
@reads_raw_body
def connect_webhook(request, foundation: str):
    """Events of grantees' connected accounts (signed with the foundation's Connect secret)."""
    return receive(request, foundation, CONNECT)
