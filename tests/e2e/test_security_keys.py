"""Browser journey with a security key or passkey as the second factor, on Chromium's virtual
authenticator (WebAuthn through the DevTools protocol: a real browser ceremony, no hardware).

A staff member who signed in with the authenticator app adds a key from the app's setup page,
signs out, and signs in again in Spanish with the key instead of a code. Pages checked with axe.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.utils import translation
from playwright.sync_api import expect

from grants.models import Role
from grants.services.staff import add_staff
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import PASSWORD, sign_in_staff
from tests.factories import FoundationFactory, UserFactory

WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def officer(e2e_site):
    user = UserFactory(email="kiona@foundation.example", is_staff=True)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    add_staff(user, foundation=FoundationFactory(), role=Role.PROGRAM_OFFICER)
    return user


def _virtual_authenticator(context, page) -> None:
    """A platform authenticator that verifies the user and answers at once."""
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable", {"enableUI": False})
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def _password_step(page, url, user, language: str) -> None:
    """Sign in with the password, up to the page asking for the second factor."""
    page.goto(url(f"/{language}/accounts/login/?next=/admin/"))
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(url(f"/{language}/accounts/2fa/authenticate/"))


def _es(text: str) -> str:
    with translation.override("es"):
        return translation.gettext(text)


def test_staff_member_adds_a_security_key_and_signs_in_with_it(officer, url, browser):
    context = browser.new_context(locale="en-US", viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    _virtual_authenticator(context, page)
    sign_in_staff(page, url, officer)

    # From the app's page, the other way: a security key or passkey.
    page.goto(url("/en/accounts/2fa/"))
    assert_accessible(page)
    page.goto(url("/en/accounts/2fa/webauthn/add/"))
    # Adding a way to sign in asks for the password again first.
    expect(page).to_have_url(re.compile(r"/en/accounts/reauthenticate/"))
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    expect(page).to_have_url(url("/en/accounts/2fa/webauthn/add/"))
    assert_accessible(page)
    page.get_by_label("Name of this key").fill("Office key")
    page.locator("#mfa_webauthn_add").click()
    expect(page).not_to_have_url(url("/en/accounts/2fa/webauthn/add/"))
    key = Authenticator.objects.get(user=officer, type=Authenticator.Type.WEBAUTHN)
    assert key.data["name"] == "Office key"

    # Signed out (same browser, same authenticator), then in again in Spanish with the key.
    context.clear_cookies()
    _password_step(page, url, officer, "es")
    button = page.get_by_role("button", name=_es("Use my security key or passkey"))
    expect(button).to_be_visible()
    assert_accessible(page)
    button.click()
    expect(page).to_have_url(url("/admin/"))
    context.close()


def test_the_sign_in_page_offers_no_key_to_someone_who_has_none(officer, url, browser):
    context = browser.new_context(locale="en-US", viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in_staff(page, url, officer)
    context.clear_cookies()
    _password_step(page, url, officer, "en")
    expect(page.locator("input[name=code]")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("security key"))).to_have_count(0)
    context.close()
