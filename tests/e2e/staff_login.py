"""Staff sign-in in the browser: the one sign-in page, the password, then the authenticator code.

``sign_in_staff(page, url, user)`` gives ``user`` an authenticator app with a known secret
(``tests.security_helpers.give_totp``) if they have none, opens /admin/login/ (which leads to
allauth's sign-in page), types the password and then the app's current code, and waits for the
admin. Each code is accepted once, so a person signing in twice in one test gets the next one.
"""

import re
import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from tests.security_helpers import give_totp, totp_code

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password

_used_codes: dict[int, set[str]] = {}


def _fresh_code(user) -> str:
    """A code the app shows now (one step either side is accepted) that was not used yet."""
    used = _used_codes.setdefault(user.pk, set())
    while True:
        for step in (0, 1, -1):
            code = totp_code(user, step=step)
            if code not in used:
                used.add(code)
                return code
        time.sleep(mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD + 0.1)


def sign_in_staff(page, url, user, *, password: str = PASSWORD, next_path: str = "/admin/") -> None:
    """Sign ``user`` in to the staff area with password and authenticator code; ends on ``next_path``."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        give_totp(user)
    page.goto(url("/admin/login/" if next_path == "/admin/" else f"/admin/login/?next={next_path}"))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(_fresh_code(user))
    page.locator("form[action$='/2fa/authenticate/'] button[type=submit]").click()
    expect(page).to_have_url(url(next_path))
