"""Which Stripe keys and webhook secrets belong to a foundation, and how admins store them.

Each foundation has its own Stripe platform account. Its keys are looked up, value by value:

1. what the foundation's admins stored in admin (``StripeAccountSecrets``, encrypted at rest);
2. the environment, suffixed with the foundation's slug (``STRIPE_SECRET_KEY_RIVER_VALLEY`` for
   "river-valley");
3. the un-suffixed settings, for an install that serves one foundation.

In simulated mode nothing needs configuring and nothing above is read: the webhook secrets are
derived from ``SECRET_KEY`` so the simulator that signs events and the webhook view that
verifies them agree.
"""

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grants.models import Foundation, StripeAccountSecrets
from grants.services.workflow import record


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


def set_in_environment(foundation, prefix: str) -> bool:
    """Whether the environment gives ``foundation`` a value for ``prefix`` ("STRIPE_SECRET_KEY"...)."""
    value, _name = _lookup(prefix, env_suffix(foundation), prefix)
    return bool(value)


def stored_secrets(foundation) -> StripeAccountSecrets | None:
    """The keys the foundation's admins stored (decrypted on access), or None."""
    return StripeAccountSecrets.objects.filter(foundation_id=foundation.pk).first()


def credentials_for(foundation) -> StripeCredentials:
    """The foundation's Stripe credentials for the configured ``STRIPE_GATEWAY``.

    In "simulated" mode this is ``simulated_credentials(foundation)``. Otherwise each value is
    the one stored in admin when there is one, else the environment's (see the module's
    docstring). The secret key and both webhook secrets are required (``ImproperlyConfigured``
    says where to set the missing one); the publishable key is optional because the portal only
    uses Stripe's hosted pages. A stored value that no encryption key opens raises
    ``grants.crypto.DecryptionError``: the environment's value is never silently used instead.
    """
    if settings.STRIPE_GATEWAY == "simulated":
        return simulated_credentials(foundation)
    stored = stored_secrets(foundation)
    suffix = env_suffix(foundation)

    def value(field: str, prefix: str) -> tuple[str, str]:
        if stored is not None and getattr(stored, field):
            return getattr(stored, field), ""
        return _lookup(prefix, suffix, prefix)

    secret_key, secret_key_name = value("secret_key", "STRIPE_SECRET_KEY")
    publishable_key, _name = value("publishable_key", "STRIPE_PUBLISHABLE_KEY")
    webhook_secret, webhook_name = value("webhook_secret", "STRIPE_WEBHOOK_SECRET")
    connect_secret, connect_name = value("connect_webhook_secret", "STRIPE_CONNECT_WEBHOOK_SECRET")
    for found, name in (
        (secret_key, secret_key_name),
        (webhook_secret, webhook_name),
        (connect_secret, connect_name),
    ):
        if not found:
            base = name.removesuffix(f"_{suffix}")
            raise ImproperlyConfigured(
                f"Stripe is not configured for foundation {foundation.slug!r}: enter its keys in "
                f"admin (Settings → Stripe keys), or set {name} (or {base} on a single-foundation "
                "install)."
            )
    return StripeCredentials(
        secret_key=secret_key,
        publishable_key=publishable_key,
        webhook_secret=webhook_secret,
        connect_webhook_secret=connect_secret,
    )


# --- Keys entered in admin ----------------------------------------------------------------------

SECRET_KEY_PATTERN = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9]{10,240}$")
PUBLISHABLE_KEY_PATTERN = re.compile(r"^pk_(live|test)_[A-Za-z0-9]{10,240}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^whsec_[A-Za-z0-9+/=]{10,240}$")


def _mode_mismatch(livemode: bool) -> str:
    if livemode:
        return _(
            "This is a live key, but the portal runs in test mode (STRIPE_LIVEMODE is off), so no "
            "real money may move. Enter a test key (sk_test_…), or ask the portal's administrator "
            "to turn live mode on first."
        )
    return _(
        "This is a test key, but the portal runs in live mode (STRIPE_LIVEMODE is on): payments "
        "would not be real. Enter the live key (sk_live_…)."
    )


def validate_secret_key(value: str) -> None:
    """A Stripe secret or restricted key whose mode matches ``settings.STRIPE_LIVEMODE``."""
    match = SECRET_KEY_PATTERN.match(value)
    if not match:
        raise ValidationError(
            _(
                "This is not a Stripe secret key: it starts with sk_live_, sk_test_ or rk_ (a "
                "restricted key) and has no spaces. Copy it from Developers → API keys."
            ),
            code="invalid_secret_key",
        )
    livemode = match.group(2) == "live"
    if livemode != bool(settings.STRIPE_LIVEMODE):
        raise ValidationError(_mode_mismatch(livemode), code="livemode_mismatch")


def validate_publishable_key(value: str) -> None:
    """A Stripe publishable key whose mode matches ``settings.STRIPE_LIVEMODE``."""
    match = PUBLISHABLE_KEY_PATTERN.match(value)
    if not match:
        raise ValidationError(
            _("This is not a Stripe publishable key: it starts with pk_live_ or pk_test_."),
            code="invalid_publishable_key",
        )
    livemode = match.group(1) == "live"
    if livemode != bool(settings.STRIPE_LIVEMODE):
        raise ValidationError(_mode_mismatch(livemode), code="livemode_mismatch")


def validate_webhook_secret(value: str) -> None:
    """A webhook endpoint's signing secret (``whsec_…``)."""
    if not WEBHOOK_SECRET_PATTERN.match(value):
        raise ValidationError(
            _(
                "This is not a webhook signing secret: it starts with whsec_. Copy it from the "
                "endpoint's page under Developers → Webhooks (“Signing secret”)."
            ),
            code="invalid_webhook_secret",
        )


SECRET_FIELDS = ("secret_key", "webhook_secret", "connect_webhook_secret")


def save_stripe_secrets(
    foundation: Foundation,
    *,
    by,
    secret_key: str = "",
    webhook_secret: str = "",
    connect_webhook_secret: str = "",
    publishable_key: str | None = None,
) -> StripeAccountSecrets:
    """Store the foundation's Stripe keys entered by ``by`` (a foundation admin; the caller checks).

    An empty secret keeps the one stored (they are write-only: nobody reads them back); a
    non-empty one replaces it, after the same checks as the admin form (``ValidationError``).
    ``publishable_key`` is replaced when given, emptied by "". The stored secrets are never
    decrypted here, so keys whose encryption key was lost can still be replaced. One activity
    entry says which values changed and the secret key's last four characters, never a secret.
    """
    secrets = {"secret_key": secret_key, "webhook_secret": webhook_secret,
               "connect_webhook_secret": connect_webhook_secret}  # fmt: skip
    secrets = {name: value.strip() for name, value in secrets.items() if value and value.strip()}
    validators = {"secret_key": validate_secret_key, "webhook_secret": validate_webhook_secret,
                  "connect_webhook_secret": validate_webhook_secret}  # fmt: skip
    for name, value in secrets.items():
        validators[name](value)
    if publishable_key:
        publishable_key = publishable_key.strip()
        validate_publishable_key(publishable_key)
    with transaction.atomic():
        row, _created = (
            StripeAccountSecrets.objects.select_for_update()
            .only("pk", "foundation", "publishable_key", "secret_key_last4")
            .get_or_create(foundation=foundation)
        )
        changed = list(secrets)
        for name, value in secrets.items():
            setattr(row, name, value)
        if "secret_key" in secrets:
            row.secret_key_last4 = secrets["secret_key"][-4:]
        if publishable_key is not None and publishable_key != row.publishable_key:
            row.publishable_key = publishable_key
            changed.append("publishable_key")
        if not changed:
            return row
        row.updated_by = by
        row.save(update_fields=[*changed, "secret_key_last4", "updated_by", "updated_at"])
        # The note names what changed (the secret key by its last four characters), never a secret.
        names = {"secret_key": f"secret key …{row.secret_key_last4}", "webhook_secret": "webhook secret",
                 "connect_webhook_secret": "Connect webhook secret",
                 "publishable_key": "publishable key"}  # fmt: skip
        note = ", ".join(names[name] for name in changed)
        record(subject=foundation, subject_type="foundation", action="stripe_keys_changed", actor=by,
               foundation=foundation, note=note)  # fmt: skip
    return row
