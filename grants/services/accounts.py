"""Applicant accounts: the one-time sign-in link sent alongside allauth's sign-in code.

Why a link as well as the code: many applicants read email on the phone they apply from and
struggle to copy a code between apps. The link opens a page with one "Sign in" button.

How it stays safe without storing anything:

- The link carries a token signed with ``SECRET_KEY`` (``django.core.signing``), naming the
  user, the address the email went to and where to go afterwards.
- It also carries a fingerprint of the account's sign-in state: password hash and
  ``last_login``. Any sign-in — through this link, the code, or a password — changes
  ``last_login``, so a link works **once**; changing the password kills it too.
- It expires after ``ACCOUNT_LOGIN_BY_CODE_TIMEOUT`` seconds, like the code it came with.
- Unlike allauth's code, which is kept in the session of the browser that asked for it, the
  link also works when the email app opens it in another browser — which phones often do.
- Opening the link (GET) only shows a confirmation page; signing in needs the POST, so mail
  scanners that follow links cannot spend it.
"""

from dataclasses import dataclass

from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

LOGIN_LINK_SALT = "grants.accounts.login-link"


class LoginLinkError(Exception):
    """A sign-in link that cannot be used: expired, already used, altered, or for an account
    that may not sign in. ``message`` is safe to show to the person holding the link."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LoginLink:
    """What a valid link grants: signing in ``user``, who received it at ``email``."""

    user: object
    email: str
    next_url: str


def login_link_max_age() -> int:
    """Seconds a link stays valid: the same as the sign-in code it is sent with."""
    return allauth_settings.LOGIN_BY_CODE_TIMEOUT


def _fingerprint(user, email: str) -> str:
    last_login = user.last_login.isoformat() if user.last_login else ""
    state = f"{user.pk}|{user.password}|{last_login}|{email.lower()}|{user.is_active}"
    return salted_hmac(LOGIN_LINK_SALT, state, algorithm="sha256").hexdigest()


def make_login_link_token(*, user, email: str, next_url: str = "") -> str:
    """A token for a one-time sign-in link for ``user``, sent to ``email``.

    ``next_url`` is where to go after signing in; it is checked again when the link is used.
    """
    payload = {"u": user.pk, "e": email.lower(), "f": _fingerprint(user, email), "n": next_url or ""}
    return signing.dumps(payload, salt=LOGIN_LINK_SALT, compress=True)


def _read(token: str, *, lock: bool) -> LoginLink:
    expired = _("This sign-in link has expired. Ask for a new sign-in code.")
    invalid = _("This sign-in link is not valid or has already been used. Ask for a new sign-in code.")
    try:
        payload = signing.loads(token, salt=LOGIN_LINK_SALT, max_age=login_link_max_age())
    except signing.SignatureExpired:
        raise LoginLinkError(expired) from None
    except signing.BadSignature:
        raise LoginLinkError(invalid) from None
    users = get_user_model().objects.all()
    if lock:
        users = users.select_for_update()
    user = users.filter(pk=payload.get("u")).first()
    email = payload.get("e") or ""
    if user is None or not user.is_active or not email:
        raise LoginLinkError(invalid)
    belongs = (
        user.email.lower() == email or EmailAddress.objects.filter(user=user, email__iexact=email).exists()
    )
    if not belongs:
        raise LoginLinkError(invalid)
    if not constant_time_compare(payload.get("f") or "", _fingerprint(user, email)):
        raise LoginLinkError(invalid)
    return LoginLink(user=user, email=email, next_url=payload.get("n") or "")


def check_login_link(*, token: str) -> LoginLink:
    """Whether ``token`` would sign someone in now, without using it up.

    Raises ``LoginLinkError`` when it would not.
    """
    return _read(token, lock=False)


def redeem_login_link(*, token: str) -> LoginLink:
    """Use up ``token`` and return whom it signs in. Raises ``LoginLinkError`` if unusable.

    Under a row lock on the user, ``last_login`` is stamped before the caller signs the
    person in, so two clicks racing each other cannot both succeed. Receiving the link
    proves the person reads ``email``, so that address is marked verified, as allauth does
    for the code.
    """
    with transaction.atomic():
        link = _read(token, lock=True)
        user = link.user
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        address = EmailAddress.objects.filter(user=user, email__iexact=link.email).first()
        if address is None:
            # Accounts made outside sign-up (admin, seed data) may have no address row yet.
            EmailAddress.objects.create(
                user=user,
                email=link.email,
                primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
                verified=True,
            )
        else:
            address.set_verified(commit=True)
    return link
