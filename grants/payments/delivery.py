"""Delivering the simulated Stripe's webhook events to the portal's own webhook endpoints.

Real Stripe POSTs each event to the endpoint configured for the foundation. The simulator does
the same in-process: it builds the POST a webhook would be (raw JSON body, ``Stripe-Signature``
header) and calls the view that the URL resolves to, after the current transaction commits —
as with Stripe, the event arrives only once the request that caused it has finished.
"""

import io
import logging
from dataclasses import dataclass

from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.urls import NoReverseMatch, resolve, reverse

logger = logging.getLogger(__name__)

PLATFORM_WEBHOOK_URL_NAME = "stripe_webhook"
CONNECT_WEBHOOK_URL_NAME = "stripe_connect_webhook"


@dataclass(frozen=True)
class WebhookDelivery:
    """One signed event on its way to a foundation's webhook endpoint.

    ``payload`` is the exact body that was signed; ``connect`` says whether it goes to the
    Connect endpoint (events of grantees' accounts) rather than the platform endpoint.
    """

    foundation_slug: str
    event: dict
    payload: bytes
    signature: str
    connect: bool

    @property
    def event_id(self) -> str:
        return self.event["id"]

    @property
    def event_type(self) -> str:
        return self.event["type"]


def webhook_path(delivery: WebhookDelivery) -> str:
    """The endpoint's path; raises ``NoReverseMatch`` while the webhook URLs are not installed."""
    name = CONNECT_WEBHOOK_URL_NAME if delivery.connect else PLATFORM_WEBHOOK_URL_NAME
    return reverse(name, kwargs={"foundation": delivery.foundation_slug})


def build_request(path: str, delivery: WebhookDelivery) -> WSGIRequest:
    """The POST Stripe would send: raw JSON body and the signature header, nothing else."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(delivery.payload)),
        "HTTP_STRIPE_SIGNATURE": delivery.signature,
        "HTTP_USER_AGENT": "Stripe/1.0 (+https://stripe.com/docs/webhooks) simulated",
        "wsgi.input": io.BytesIO(delivery.payload),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    return WSGIRequest(environ)


def dispatch(delivery: WebhookDelivery) -> int | None:
    """Call the webhook view with the event now; return the response status (``None`` if skipped).

    Errors of the view are logged, not raised: like Stripe, the sender does not fail because
    the receiver did (Stripe would retry; ``SimulatedGateway.redeliver`` does that on demand).
    """
    try:
        path = webhook_path(delivery)
    except NoReverseMatch:
        logger.warning(
            "Simulated Stripe: no webhook endpoint installed; event %s (%s) not delivered",
            delivery.event_id,
            delivery.event_type,
        )
        return None
    match = resolve(path)
    request = build_request(path, delivery)
    try:
        response = match.func(request, *match.args, **match.kwargs)
    except Exception:
        logger.exception(
            "Simulated Stripe: webhook view failed on event %s (%s)", delivery.event_id, delivery.event_type
        )
        return 500
    if response.status_code >= 300:
        logger.warning(
            "Simulated Stripe: webhook answered %s to event %s (%s)",
            response.status_code,
            delivery.event_id,
            delivery.event_type,
        )
    return response.status_code


def deliver_after_commit(delivery: WebhookDelivery) -> None:
    """The default deliverer: ``dispatch`` once the current transaction commits (now if none).

    In pytest-django tests that are not transactional, commit callbacks only run inside
    ``django_capture_on_commit_callbacks(execute=True)``.
    """
    transaction.on_commit(lambda: dispatch(delivery))
