"""Browser journey of a new staff member: first sign-in, setting up the authenticator app (the
QR code and the secret to type), the recovery codes, the admin; then signing in again with a
code, in Spanish. Every page is checked with axe."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils import translation
from playwright.sync_api import expect

from grants.models import Role
from grants.services.staff import add_staff
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import PASSWORD, sign_in_staff
from tests.factories import FoundationFactory, UserFactory
from tests.security_helpers import recovery_codes

WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def officer(e2e_site):
    user = UserFactory(email="olga@foundation.example", is_staff=True)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    add_staff(user, foundation=FoundationFactory(), role=Role.PROGRAM_OFFICER)
    return user


def test_new_staff_member_sets_up_the_app_then_signs_in_with_it(officer, url, browser):
    context = browser.new_context(locale="en-US", viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(10_000)

    # First visit: the admin sends to the one sign-in page.
    page.goto(url("/admin/reports/"))
    expect(page).to_have_url(url("/en/accounts/login/?next=%2Fadmin%2Freports%2F"))
    page.locator("input[name=login]").fill(officer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()

    # No app yet: the staff area asks for one; allauth first asks for the password again.
    expect(page).to_have_url(re.compile(r"/en/accounts/reauthenticate/"))
    expect(
        page.get_by_text("The staff area needs two-factor authentication. Set it up to continue.")
    ).to_be_visible()
    assert_accessible(page)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()

    expect(page).to_have_url(url("/en/accounts/2fa/totp/activate/"))
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert_accessible(page)
    secret = page.get_by_label("Secret to type into the app").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    # A wrong code first: refused, nothing set up.
    page.locator("input[name=code]").fill("000000")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    code = format_hotp_value(hotp_value(secret, int(page.evaluate("Date.now()") / 1000) // 30))
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Activate").click()

    # The recovery codes, then on to where they were going.
    expect(page).to_have_url(url("/en/accounts/2fa/recovery-codes/"))
    codes = page.get_by_label("Unused codes").input_value().split()
    assert codes == recovery_codes(officer)
    assert_accessible(page)
    page.get_by_role("link", name="I have kept my codes: continue to the staff area").click()
    expect(page).to_have_url(url("/admin/reports/"))

    # Sign out from the admin, then in again: now the code is asked for, in Spanish.
    context.clear_cookies()
    context.close()
    context = browser.new_context(locale="es-MX", viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(url("/admin/"))
    expect(page).to_have_url(re.compile(r"/es/accounts/login/"))
    page.locator("input[name=login]").fill(officer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(url("/es/accounts/2fa/authenticate/"))
    with translation.override("es"):
        heading = translation.gettext("Enter your authenticator code")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert_accessible(page)
    # A recovery code works instead of the app.
    page.locator("input[name=code]").fill(codes[0])
    page.locator("form[action$='/2fa/authenticate/'] button[type=submit]").click()
    expect(page).to_have_url(url("/admin/"))
    context.close()


def test_admin_sign_out_goes_back_to_the_sign_in_page(officer, url, page):
    sign_in_staff(page, url, officer)
    page.get_by_role("button", name=re.compile(officer.first_name)).click()  # the account menu
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/en/accounts/login/\?next=%2Fadmin%2F"))
    page.goto(url("/admin/"))
    expect(page).to_have_url(re.compile(r"/en/accounts/login/"))
