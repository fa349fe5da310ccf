"""Which Stripe keys and webhook secrets belong to a foundation.

Each foundation has its own Stripe platform account. Its keys come from the environment,
suffixed with the foundation's slug (``STRIPE_SECRET_KEY_RIVER_VALLEY`` for "river-valley"),
falling back to the un-suffixed settings for an install that serves one foundation.
In simulated mode nothing needs configuring: the webhook secrets are derived from
``SECRET_KEY`` so the simulator that signs events and the webhook view that verifies them agree.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class StripeCredentials:
    """A foundation's Stripe keys: the API key pair and the two webhook endpoints' signing secrets.

    ``webhook_secret`` verifies events of the platform account (donations, transfers);
    ``connect_webhook_secret`` verifies Connect events of grantees' accounts (``account.updated``).
    """

    secret_key: str
    publishable_key: str
    webhook_secret: str
    connect_webhook_secret: str

    def __repr__(self):
        # Never let a secret reach a log line or an error page.
        return f"StripeCredentials(publishable_key={self.publishable_key!r}, secret_key=<hidden>)"


def env_suffix(foundation) -> str:
    """The slug as it appears in variable names: "river-valley" → "RIVER_VALLEY"."""
    return foundation.slug.upper().replace("-", "_")


def _derived_secret(purpose: str, slug: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{slug}".encode(), hashlib.sha256)
    return "whsec_sim_" + digest.hexdigest()[:32]


def simulated_credentials(foundation) -> StripeCredentials:
    """The credentials of the simulated Stripe: placeholder keys, secrets derived from ``SECRET_KEY``."""
    return StripeCredentials(
        secret_key="sk_test_simulated",
        publishable_key="pk_test_simulated",
        webhook_secret=_derived_secret("platform", foundation.slug),
        connect_webhook_secret=_derived_secret("connect", foundation.slug),
    )


def _lookup(prefix: str, suffix: str, setting: str | None = None) -> tuple[str, str]:
    """(value, name of the variable to set) — per-foundation variable first, then the shared one."""
    name = f"{prefix}_{suffix}"
    value = os.environ.get(name, "")
    if not value:
        value = (getattr(settings, setting, "") if setting else "") or os.environ.get(prefix, "")
    return value, name


def credentials_for(foundation) -> StripeCredentials:
    """The foundation's Stripe credentials for the configured ``STRIPE_GATEWAY``.

    In "simulated" mode this is ``simulated_credentials(foundation)``. Otherwise the secret key
    and both webhook secrets are required (``ImproperlyConfigured`` names the missing variable);
    the publishable key is optional because the portal only uses Stripe's hosted pages.
    """
    if settings.STRIPE_GATEWAY == "simulated":
        return simulated_credentials(foundation)
    suffix = env_suffix(foundation)
    secret_key, secret_key_name = _lookup("STRIPE_SECRET_KEY", suffix, "STRIPE_SECRET_KEY")
    publishable_key, _ = _lookup("STRIPE_PUBLISHABLE_KEY", suffix, "STRIPE_PUBLISHABLE_KEY")
    webhook_secret, webhook_name = _lookup("STRIPE_WEBHOOK_SECRET", suffix, "STRIPE_WEBHOOK_SECRET")
    connect_secret, connect_name = _lookup(
        "STRIPE_CONNECT_WEBHOOK_SECRET", suffix, "STRIPE_CONNECT_WEBHOOK_SECRET"
    )
    for value, name in (
        (secret_key, secret_key_name),
        (webhook_secret, webhook_name),
        (connect_secret, connect_name),
    ):
        if not value:
            base = name.removesuffix(f"_{suffix}")
            raise ImproperlyConfigured(
                f"Stripe is not configured for foundation {foundation.slug!r}: set {name} "
                f"(or {base} on a single-foundation install)."
            )
    return StripeCredentials(
        secret_key=secret_key,
        publishable_key=publishable_key,
        webhook_secret=webhook_secret,
        connect_webhook_secret=connect_secret,
    )
