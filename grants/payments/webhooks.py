"""Stripe's webhook endpoints: verify, store once, answer, then apply each event with its handler.

Two endpoints per foundation, each with its own signing secret: the platform endpoint (events
of the foundation's own account: transfers, donations) and the Connect endpoint (events of the
grantees' connected accounts: ``account.updated``). The signature is checked on the raw body
with a 300 s tolerance; anything wrong (or a payload without an event's envelope) is a 400 and
stores nothing. Each event is stored once by its id ("received") and answered; a task then applies
it under a lock on its row, once, so a replay or a retried task changes nothing.

Handlers receive the stored ``WebhookEvent`` (not yet saved with its final status) and return
``(status, note)``. Every event ends "processed", "ignored" (with the reason) or "flagged":

* An event we cannot trust (wrong livemode, amount, currency or destination) is stored "flagged"
  for a person to look at and answered 200, so Stripe stops retrying. Finance can re-apply a
  flagged event once they fixed the cause (``reapply``).
* An event about something not known yet (a refund before its payment was recorded) is stored
  "waiting"; it is applied again each time another event of the foundation is processed and by
  the sweep (``apply_pending``), and flagged once it has waited ``WEBHOOK_WAITING_MAX_DAYS``.

The tasks that apply events are defined here and re-exported by ``grants.tasks``, so this module
never imports that one.
"""

import json
import logging
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.http import HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tasks import task
from django_tasks.base import TaskResultStatus
from moneyed import CurrencyDoesNotExist

from grants.middleware import reads_raw_body
from grants.models import Foundation, WebhookEvent, WebhookEventStatus
from grants.money import from_minor_units
from grants.payments.credentials import credentials_for
from grants.payments.gateway import PaymentError
from grants.services import donation_events, payouts
from grants.services.errors import DomainError
from grants.services.locks import retry_on_deadlock
from grants.services.workflow import record

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
PLATFORM, CONNECT = "platform", "connect"
RECEIVED, PROCESSED, IGNORED, FLAGGED, WAITING = (
    WebhookEventStatus.RECEIVED,
    WebhookEventStatus.PROCESSED,
    WebhookEventStatus.IGNORED,
    WebhookEventStatus.FLAGGED,
    WebhookEventStatus.WAITING,
)


# --- Handlers: donations and the foundation's own payouts --------------------------------------


PAYOUT_SUBJECT, PAYOUT_FAILED = "stripe_payout", "payout_failed"


def handle_payout_failed(event: WebhookEvent) -> tuple[str, str]:
    """``payout.failed``: Stripe could not pay the foundation's balance out to its bank.

    No fund's money changes (the amount returns to the Stripe balance), but finance must fix the
    bank details: the failure is written to the foundation's activity and listed on the admin's
    webhook events page. A connected account's own payout (Connect endpoint) is the grantee's.
    """
    if event.endpoint != PLATFORM or event.account:
        return IGNORED, "a connected account's own payout"
    payout = event.payload["data"]["object"]
    amount = from_minor_units(int(payout["amount"]), payout["currency"])
    reason = " — ".join(part for part in (payout.get("failure_code"), payout.get("failure_message")) if part)
    note = f"payout {payout.get('id')} of {amount} failed: {reason or 'no reason given'}"
    record(subject=event, subject_type=PAYOUT_SUBJECT, action=PAYOUT_FAILED, actor=None,
           foundation=event.foundation, note=note[:500])  # fmt: skip
    return PROCESSED, note


# The table of what each event type the portal subscribes to does is in docs/decisions.md
# ("Stripe event handling table"); keep the two in step.
DONATION_HANDLERS = {
    "checkout.session.completed": donation_events.on_checkout_completed,
    "checkout.session.async_payment_succeeded": donation_events.on_checkout_completed,
    "checkout.session.async_payment_failed": donation_events.on_async_payment_failed,
    "checkout.session.expired": donation_events.on_checkout_expired,
    "invoice.paid": donation_events.on_invoice_paid,
    "invoice.payment_failed": donation_events.on_invoice_payment_failed,
    "customer.subscription.updated": donation_events.on_subscription_updated,
    "customer.subscription.deleted": donation_events.on_subscription_deleted,
    "charge.refunded": donation_events.on_charge_refunded,
    "charge.refund.updated": donation_events.on_refund_updated,
    "charge.dispute.created": donation_events.on_dispute_created,
    "charge.dispute.funds_withdrawn": donation_events.on_dispute_funds_withdrawn,
    "charge.dispute.funds_reinstated": donation_events.on_dispute_funds_reinstated,
    "charge.dispute.closed": donation_events.on_dispute_closed,
    "payout.failed": handle_payout_failed,
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
        # Plain, like the other answers to Stripe: the same few bytes for every unknown slug.
        return HttpResponseNotFound("not found", content_type="text/plain")
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
    try:
        result = apply_webhook_event.enqueue(event_id=event_pk)
    except Exception:  # the queue is down: Stripe gets its answer, the sweep applies the event
        logger.exception("Stripe event row %s stored but not queued", event_pk)
        return None
    # Ran at once (immediate backend) and succeeded: say what became of the event. A task that
    # failed leaves the event "received" for the sweep.
    return result.return_value if result.status == TaskResultStatus.SUCCESSFUL else None


# Events a handler may look at again: not yet applied, or waiting for an earlier event.
APPLICABLE = (RECEIVED, WAITING)


def waiting_max_age() -> timedelta:
    """How long an event may wait for the event it depends on before it is flagged."""
    return timedelta(days=settings.WEBHOOK_WAITING_MAX_DAYS)


def apply_event(event_pk: int) -> str | None:
    """Apply one stored event exactly once; then, if it was processed, the foundation's events
    that were waiting for it. Returns the event's final status (``None`` if already applied)."""
    status = _apply_with_retries(event_pk)
    if status == PROCESSED:
        foundation_id = (
            WebhookEvent.objects.filter(pk=event_pk).values_list("foundation_id", flat=True).first()
        )
        apply_waiting(foundation_id)
    return status


def apply_waiting(foundation_id: int) -> int:
    """Apply again the foundation's waiting events, oldest first, as long as one of them gets
    processed (it may be what another waits for). Returns how many were processed."""
    processed = 0
    while True:
        progressed = False
        waiting = WebhookEvent.objects.filter(foundation_id=foundation_id, status=WAITING).order_by("pk")
        for pk in list(waiting.values_list("pk", flat=True)):
            if _apply_with_retries(pk) == PROCESSED:
                processed += 1
                progressed = True
        if not progressed:
            return processed


def _apply_with_retries(event_pk: int) -> str | None:
    """Apply one stored event, again when PostgreSQL breaks a deadlock (``locks.retry_on_deadlock``):
    a handler locks rows a person's action may be locking at the same moment; the event's
    transaction rolled back whole, so a retry starts from the same state."""
    return retry_on_deadlock(_apply_event_once)(event_pk)


def _apply_event_once(event_pk: int) -> str | None:
    """Apply one stored event; return its final status (``None`` if it was already applied).

    The row is locked for the whole application, and only an event still "received" (or
    "waiting") is applied, so two workers (or a retried task) can never apply it twice. A handler
    that fails on an object of the wrong shape rolls back its own effects; the event is flagged
    for a person. Stripe not answering a handler's question (a timeout) makes the event wait and
    be tried again; a waiting event older than ``WEBHOOK_WAITING_MAX_DAYS`` is flagged.
    """
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(of=("self",))
            .select_related("foundation")
            .filter(pk=event_pk, status__in=APPLICABLE)
            .first()
        )
        if event is None:
            return None
        previous = event.status
        try:
            with transaction.atomic():
                _process(event)
        except MALFORMED as error:
            # Signed, yet not shaped as Stripe documents it: none of its effects are kept, the
            # event is kept for a person to look at.
            event.status, event.note = FLAGGED, f"unreadable {event.type} event ({type(error).__name__})"
        except PaymentError as error:
            if error.outcome_unknown:
                event.status, event.note = WAITING, f"Stripe did not answer ({error.kind}); tried again later"
            else:
                event.status, event.note = FLAGGED, f"Stripe refused a look-up ({error.kind} {error.code})"
        if event.status == WAITING and timezone.now() - event.received_at > waiting_max_age():
            event.status, event.note = FLAGGED, f"waited too long: {event.note}"[:500]
        if event.status == previous == WAITING:
            event.save(update_fields=["note"])
            return WAITING
        event.save(update_fields=["status", "note"])
    if event.status == FLAGGED:
        logger.warning("Stripe event %s (%s) flagged: %s", event.event_id, event.type, event.note)
    return event.status


def apply_pending(*, older_than_seconds: int = 60) -> int:
    """Apply events left "received" (their task was lost) and those waiting for another event
    (flagging the ones that waited too long); return how many were applied."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = WebhookEvent.objects.filter(status=RECEIVED, received_at__lt=cutoff).order_by("pk")
    applied = sum(1 for pk in pending.values_list("pk", flat=True).iterator() if apply_event(pk) is not None)
    waiting = WebhookEvent.objects.filter(status=WAITING).order_by("pk")
    retried = [apply_event(pk) for pk in list(waiting.values_list("pk", flat=True))]
    return applied + sum(1 for status in retried if status not in (None, WAITING))


class NotReapplicable(DomainError):
    """Only a flagged event can be applied again."""


def reapply(event: WebhookEvent, *, by) -> str:
    """Run a flagged event's handler again (finance fixed what it needed, e.g. the donation).

    Under the event's row lock the event goes back to "received" with an activity entry naming
    who asked, then is applied as if it had just arrived, in the same transaction: the handler
    takes the same locks, and the ledger's idempotency keys keep anything already booked from
    being booked twice. Returns the new status (it may be flagged again, with a new note).
    Raises ``NotReapplicable`` unless the event is flagged.
    """
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update(of=("self",)).filter(pk=event.pk).first()
        if locked is None or locked.status != FLAGGED:
            raise NotReapplicable(_("Only a flagged event can be applied again."))
        record(subject=locked, subject_type=EVENT_SUBJECT, action="reapply", actor=by, foundation=locked.foundation,
               from_state=FLAGGED, to_state=RECEIVED, note=locked.note)  # fmt: skip
        locked.status, locked.note = RECEIVED, ""
        locked.save(update_fields=["status", "note"])
        status = _apply_event_once(locked.pk)
    if status == PROCESSED:
        apply_waiting(locked.foundation_id)
    return status


EVENT_SUBJECT = "webhook_event"


@task()
def apply_webhook_event(event_id: int) -> str | None:
    """Apply one stored Stripe event (see ``apply_event``); safe to repeat.

    Defined here, beside what it runs, so that the view enqueues it without importing
    ``grants.tasks`` (which re-exports it for the worker): the dependency runs one way only.
    """
    return apply_event(event_id)


@task()
def apply_pending_webhook_events() -> int:
    """Apply Stripe events stored over a minute ago whose task was lost, and waiting ones (run
    daily and on demand)."""
    return apply_pending()


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
