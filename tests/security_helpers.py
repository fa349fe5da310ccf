"""Signing in for tests, with and without the second factor staff need.

``client.force_login(user)`` means "fully signed in" in this suite: tests/conftest.py wraps it so
the session also holds the record a real sign-in with an authenticator code leaves
(:func:`record_second_factor`). To test what happens without one, use
:func:`force_login_without_second_factor`.
"""

import base64
import hashlib
import time

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt, encrypt
from django.http import HttpRequest
from django.test.client import ClientMixin

__all__ = [
    "force_login_without_second_factor",
    "give_totp",
    "record_second_factor",
    "recovery_codes",
    "totp_code",
    "totp_secret_for",
]


def force_login_without_second_factor(client, user, backend=None) -> None:
    """Django's plain ``force_login``: signed in, but no second factor in this session."""
    ClientMixin.force_login(client, user, backend)


def record_second_factor(client, user) -> None:
    """Record in ``client``'s session that ``user`` passed an authenticator code, exactly as
    allauth's sign-in stage does (``record_authentication(..., "mfa", ...)``)."""
    session = client.session
    request = HttpRequest()
    request.session = session
    request.user = user
    if not any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
        record_authentication(request, user, "mfa", type=Authenticator.Type.TOTP.value)
    session.save()


def totp_secret_for(user) -> str:
    """A fixed base32 secret per user, so a test (or a browser test) can compute codes."""
    digest = hashlib.sha1(f"fund portal test totp {user.pk} {user.email}".encode()).digest()
    return base64.b32encode(digest).decode()


def give_totp(user, *, with_recovery_codes: bool = True) -> Authenticator:
    """Give ``user`` an authenticator app with :func:`totp_secret_for` (and recovery codes)."""
    authenticator, _ = Authenticator.objects.update_or_create(
        user=user,
        type=Authenticator.Type.TOTP,
        defaults={"data": {"secret": encrypt(totp_secret_for(user))}},
    )
    if with_recovery_codes:
        RecoveryCodes.activate(user)
    return authenticator


def totp_code(user, *, at: float | None = None, step: int = 0) -> str:
    """The code ``user``'s authenticator app shows now (or at ``at``), ``step`` periods later."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    counter = int(time.time() if at is None else at) // mfa_settings.TOTP_PERIOD + step
    return format_hotp_value(hotp_value(secret, counter))


def recovery_codes(user) -> list[str]:
    """The user's unused recovery codes."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()
