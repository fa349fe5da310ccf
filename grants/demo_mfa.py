"""The demo's second factor: every seeded staff login shares one known authenticator secret.

Only for demo mode (``settings.DEMO_MODE``, which needs DEBUG): ``seed_demo`` gives each demo
staff user an authenticator app with ``DEMO_TOTP_SECRET``, ``manage.py demo_totp`` prints the
current code, and the sign-in code page shows it to demo accounts.
"""

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt, encrypt
from django.conf import settings
from django.db import transaction

# Public on purpose (printed by seed_demo, shown in the README): it protects nothing real.
DEMO_TOTP_SECRET = "QX2MHVODKJGNJDL2KV7FQXNA6HPQNSYJ"


def current_demo_code(at: float | None = None) -> str:
    """The code an authenticator app holding ``DEMO_TOTP_SECRET`` shows now (or at ``at``)."""
    counter = int(time.time() if at is None else at) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))


@transaction.atomic
def give_demo_authenticator(user) -> None:
    """Give ``user`` the demo authenticator app (and recovery codes). Demo mode only."""
    if not settings.DEMO_MODE:
        raise RuntimeError("The demo authenticator secret is only for demo mode.")
    Authenticator.objects.update_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": encrypt(DEMO_TOTP_SECRET)}}
    )
    RecoveryCodes.activate(user)


def uses_demo_authenticator(user) -> bool:
    """Whether, in demo mode, ``user``'s authenticator app is the demo one."""
    if not settings.DEMO_MODE or user is None or user.pk is None:
        return False
    authenticator = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).first()
    return authenticator is not None and decrypt(authenticator.data.get("secret", "")) == DEMO_TOTP_SECRET
