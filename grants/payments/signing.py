"""Stripe's webhook signature scheme, for the simulator (the webhook view verifies with ``stripe``).

Stripe signs ``"<timestamp>.<raw body>"`` with HMAC-SHA256 under the endpoint's secret and sends
``Stripe-Signature: t=<timestamp>,v1=<hex digest>``.
"""

import hashlib
import hmac
import time


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value Stripe would send with ``payload``.

    ``timestamp`` (unix seconds) defaults to now; tests pass an old one to check the tolerance.
    """
    if timestamp is None:
        timestamp = int(time.time())
    signed = f"{int(timestamp)}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"
