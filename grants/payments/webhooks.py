"""Stripe's webhook endpoints: verify, store once, hand each event to its handler.

Two endpoints per foundation, each with its own signing secret: the platform endpoint (events
of the foundation's own account: transfers, donations) and the Connect endpoint (events of the
grantees' connected accounts: ``account.updated``). The signature is checked on the raw body
with a 300 s tolerance; anything wrong is a 400 and stores nothing. Each event is stored once by
its id in the same transaction as its effects, so a replay is acknowledged and changes nothing.

Handlers receive the stored ``WebhookEvent`` (not yet saved with its final status) and return
``(status, note)``. An event we cannot trust (wrong livemode, amount, currency or destination)
is stored "flagged" for a person to look at and answered 200, so Stripe stops retrying.
"""

import json
import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from grants.models import Foundation, PayeeAccount, WebhookEvent, WebhookEventStatus
from grants.payments.credentials import credentials_for
from grants.payments.gateway import payout_status_from_account_object, transfer_from_json
from grants.services import donations, payments, stipends

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
PLATFORM, CONNECT = "platform", "connect"
PROCESSED, IGNORED, FLAGGED = (
    WebhookEventStatus.PROCESSED,
    WebhookEventStatus.IGNORED,
    WebhookEventStatus.FLAGGED,
)


# --- Handlers: payouts -----------------------------------------------------------------------


def handle_account_updated(event: WebhookEvent) -> tuple[str, str]:
    obj = event.payload["data"]["object"]
    if event.endpoint != CONNECT or event.account != obj.get("id"):
        # A grantee's account speaks only through the Connect endpoint, about itself.
        return IGNORED, "not an event of this connected account"
    payee = PayeeAccount.objects.filter(foundation=event.foundation, stripe_account_id=event.account).first()
    if payee is None:
        return IGNORED, "unknown account"
    requirements = obj.get("requirements") or {}
    due = list(requirements.get("currently_due") or [])
    due += [item for item in requirements.get("past_due") or [] if item not in due]
    applied = payments.update_payee_status(
        payee,
        status=payout_status_from_account_object(obj),
        requirements_due=due,
        event_created=event.created,
    )
    return (PROCESSED, "") if applied else (IGNORED, "older than the status applied")


def _our_transfer(event: WebhookEvent):
    transfer = transfer_from_json(event.payload["data"]["object"])
    disbursement = payments.find_disbursement(
        event.foundation, disbursement_id=transfer.metadata.get("disbursement"), transfer_id=transfer.id
    )
    if disbursement is None:
        return transfer, None, "unknown transfer"
    mismatch = payments.transfer_mismatch(
        disbursement, amount=transfer.amount, destination=transfer.destination, transfer_id=transfer.id
    )
    return transfer, disbursement, mismatch


def handle_transfer_created(event: WebhookEvent) -> tuple[str, str]:
    transfer, disbursement, problem = _our_transfer(event)
    if disbursement is None:
        return FLAGGED, problem
    if problem:
        return FLAGGED, problem
    if disbursement.installment_id is None and stipends.stipend_payment_of(disbursement) is not None:
        changed = stipends.record_stipend_transfer_paid(disbursement, transfer_id=transfer.id)
    else:
        changed = payments.record_transfer_paid(disbursement, transfer_id=transfer.id)
    return (PROCESSED, "") if changed else (IGNORED, f"disbursement already {disbursement.status}")


def handle_transfer_reversed(event: WebhookEvent) -> tuple[str, str]:
    transfer, disbursement, problem = _our_transfer(event)
    if disbursement is None or problem:
        return FLAGGED, problem
    if disbursement.installment_id is None and stipends.stipend_payment_of(disbursement) is not None:
        changed = stipends.record_stipend_transfer_reversed(
            disbursement, transfer_id=transfer.id, amount_reversed=transfer.amount_reversed
        )
    else:
        changed = payments.record_transfer_reversed(
            disbursement, transfer_id=transfer.id, amount_reversed=transfer.amount_reversed
        )
    return (PROCESSED, "") if changed else (IGNORED, "reversal already recorded")


PAYOUT_HANDLERS = {
    "account.updated": handle_account_updated,
    "transfer.created": handle_transfer_created,
    "transfer.reversed": handle_transfer_reversed,
}


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

HANDLERS = {**DONATION_HANDLERS, **PAYOUT_HANDLERS}


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


def receive(request, foundation: str, endpoint: str) -> HttpResponse:
    foundation_row = Foundation.objects.filter(slug=foundation).first()
    if foundation_row is None:
        raise Http404
    credentials = credentials_for(foundation_row)
    secret = credentials.connect_webhook_secret if endpoint == CONNECT else credentials.webhook_secret
    header = request.headers.get("Stripe-Signature", "")
    payload = request.body
    try:
        stripe.Webhook.construct_event(payload, header, secret, tolerance=TOLERANCE_SECONDS)
        data = json.loads(payload)
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponse("invalid signature or payload", status=400, content_type="text/plain")
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
                status=PROCESSED,
            )
            _process(event)
            event.save(update_fields=["status", "note"])
    except IntegrityError:
        if WebhookEvent.objects.filter(event_id=data["id"]).exists():
            return HttpResponse("already processed", content_type="text/plain")
        raise
    if event.status == FLAGGED:
        logger.warning("Stripe event %s (%s) flagged: %s", event.event_id, event.type, event.note)
    return HttpResponse(event.status, content_type="text/plain")


@csrf_exempt
@require_POST
def platform_webhook(request, foundation: str):
    """Events of the foundation's own Stripe account (signed with its platform secret)."""
    return receive(request, foundation, PLATFORM)


@csrf_exempt
@require_POST
def connect_webhook(request, foundation: str):
    """Events of grantees' connected accounts (signed with the foundation's Connect secret)."""
    return receive(request, foundation, CONNECT)
