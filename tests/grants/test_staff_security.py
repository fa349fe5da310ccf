"""Staff security: a second factor for the staff area, idle staff sessions, and throttling of
sign-in and of the pages that send mail or take a secret."""

import datetime
import json
import pathlib
import re
import time

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from grants.middleware import LAST_ACTIVITY_KEY
from grants.models import Role
from grants.services.accounts import make_login_link_token
from grants.services.staff import add_staff
from tests.factories import FoundationFactory, UserFactory
from tests.security_helpers import (
    force_login_without_second_factor,
    give_totp,
    recovery_codes,
    totp_code,
    totp_secret_for,
)

PASSWORD = "correct horse battery"
LOGIN = "/en/accounts/login/"
MFA_AUTHENTICATE = "/en/accounts/2fa/authenticate/"
ACTIVATE = "/en/accounts/2fa/totp/activate/"
THROTTLED = "Too many failed login attempts. Try again later."
SET_UP_MESSAGE = "The staff area needs two-factor authentication. Set it up to continue."


def verified(user):
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


@pytest.fixture
def officer(site):
    """A program officer with a confirmed address and no authenticator app yet."""
    user = verified(UserFactory(email="olga@foundation.example"))
    add_staff(user, foundation=FoundationFactory(), role=Role.PROGRAM_OFFICER)
    return user


@pytest.fixture
def applicant(db):
    return verified(UserFactory(email="ana@example.org"))


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def sign_in(client, user, password=PASSWORD, next_url="/admin/"):
    return client.post(LOGIN, {"login": user.email, "password": password, "next": next_url})


def text(response) -> str:
    return response.content.decode()


# --- The way in ------------------------------------------------------------------------------


def test_admin_login_url_sends_to_the_one_sign_in_page_keeping_next(db):
    client = Client()
    assert client.get("/admin/login/")["Location"] == f"{LOGIN}?next=%2Fadmin%2F"
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2Fpages%2F"
    # Somewhere else is not a place to go back to.
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"
    # Wagtail's own redirects for a signed-out visitor go the same way.
    response = client.get("/admin/pages/", follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next=%2Fadmin%2Fpages%2F"


def test_spanish_visitors_are_sent_to_the_spanish_sign_in_page(db):
    response = Client(headers={"accept-language": "es"}).get("/admin/login/")
    assert response["Location"] == "/es/accounts/login/?next=%2Fadmin%2F"


def test_signed_in_applicant_at_the_admin_is_told_instead_of_looping(applicant, client):
    client.force_login(applicant)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "This account cannot use the staff area." in text(response)
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]


def test_admin_logout_still_works(officer, client):
    give_totp(officer)
    client.force_login(officer)
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_wagtails_own_password_reset_is_off_staff_use_the_throttled_one(db):
    client = Client()
    response = client.get("/admin/password_reset/", follow=True)
    assert response.status_code == 404
    assert client.get("/en/accounts/password/reset/").status_code == 200


# --- Second factor ---------------------------------------------------------------------------


def test_staff_without_a_second_factor_are_sent_to_set_one_up(officer):
    client = Client()
    force_login_without_second_factor(client, officer)
    response = client.get("/admin/applications/")
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE
    assert SET_UP_MESSAGE in messages_of(response)
    # Every admin page, not only the dashboard.
    assert client.get("/admin/")["Location"] == ACTIVATE
    # The public site stays open to them.
    assert client.get("/en/accounts/2fa/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/en/applications/999/files/1/", "/es/reports/999/receipts/1/", "/en/organizations/999/data/"]
)
def test_staff_need_the_second_factor_for_private_files_on_the_public_site_too(officer, path):
    client = Client()
    force_login_without_second_factor(client, officer)
    assert client.get(path)["Location"] == ACTIVATE.replace("/en/", path[:4])
    # Fully signed in, the view itself answers (here: nothing of theirs at that address).
    client.force_login(officer)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("who", ["superuser", "admin_access"])
def test_superusers_and_anyone_with_admin_access_count_as_staff(db, who):
    user = verified(UserFactory())
    if who == "superuser":
        user.is_superuser = True
        user.save()
    else:
        group = Group.objects.create(name="Newsletter editors")
        group.permissions.add(Permission.objects.get(codename="access_admin"))
        user.groups.add(group)
    client = Client()
    force_login_without_second_factor(client, user)
    assert client.get("/admin/")["Location"] == ACTIVATE


def test_full_sign_in_with_password_then_setting_up_the_app_reaches_the_admin(transactional_db, officer):
    # Transactional: allauth announces the new authenticator when its transaction commits,
    # inside the request, as in production.
    client = Client()
    response = sign_in(client, officer, next_url="/admin/applications/")
    assert response["Location"] == "/admin/applications/"
    response = client.get("/admin/applications/")
    assert response["Location"] == ACTIVATE
    # allauth asks for the password again before changing security settings.
    response = client.get(ACTIVATE)
    assert response["Location"].startswith("/en/accounts/reauthenticate/")
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response["Location"] == ACTIVATE
    page = client.get(ACTIVATE)
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert secret in text(page) and "<svg" in text(page)  # QR code inline, and the secret to type
    wrong = client.post(ACTIVATE, {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code." in text(wrong)
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(ACTIVATE, {"code": code})
    # Straight to the recovery codes, with the way back to where they were going.
    assert response["Location"] == "/en/accounts/2fa/recovery-codes/"
    page = client.get(response["Location"])
    assert len(recovery_codes(officer)) == 10
    assert recovery_codes(officer)[0] in text(page)
    assert 'href="/admin/applications/"' in text(page)
    assert client.get("/admin/applications/").status_code == 200
    # The "continue" link was for this once.
    assert 'href="/admin/applications/"' not in text(client.get("/en/accounts/2fa/recovery-codes/"))


def test_full_sign_in_with_password_and_authenticator_code_reaches_the_admin(officer):
    give_totp(officer)
    client = Client()
    response = sign_in(client, officer)
    assert response["Location"] == MFA_AUTHENTICATE
    assert signed_in_user_id(client) is None  # not yet
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code(officer)})
    assert response["Location"] == "/admin/"
    assert signed_in_user_id(client) == str(officer.pk)
    assert client.get("/admin/").status_code == 200


def test_a_wrong_authenticator_code_is_refused(officer):
    give_totp(officer)
    client = Client()
    sign_in(client, officer)
    right = totp_code(officer)
    response = client.post(MFA_AUTHENTICATE, {"code": "999999" if right != "999999" else "111111"})
    assert response.status_code == 200
    assert "Incorrect code." in text(response)
    assert signed_in_user_id(client) is None
    # A code of another account's app does not work either.
    other = verified(UserFactory())
    give_totp(other)
    assert totp_secret_for(other) != totp_secret_for(officer)
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code(other)})
    assert signed_in_user_id(client) is None


def test_an_authenticator_code_works_once(officer):
    give_totp(officer)
    code = totp_code(officer)
    first = Client()
    sign_in(first, officer)
    first.post(MFA_AUTHENTICATE, {"code": code})
    assert signed_in_user_id(first) == str(officer.pk)
    second = Client()
    sign_in(second, officer)
    response = second.post(MFA_AUTHENTICATE, {"code": code})
    assert "Incorrect code." in text(response)
    assert signed_in_user_id(second) is None


def test_a_recovery_code_works_once(officer):
    give_totp(officer)
    code = recovery_codes(officer)[3]
    client = Client()
    sign_in(client, officer)
    response = client.post(MFA_AUTHENTICATE, {"code": code})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert code not in recovery_codes(officer)
    assert len(recovery_codes(officer)) == 9

    client.post("/en/accounts/logout/")
    sign_in(client, officer)
    response = client.post(MFA_AUTHENTICATE, {"code": code})
    assert "Incorrect code." in text(response)
    assert signed_in_user_id(client) is None


def test_staff_session_that_did_not_pass_the_second_factor_signs_in_again(officer):
    """An authenticator app exists, but this session never used it (e.g. signed in before)."""
    give_totp(officer)
    client = Client()
    force_login_without_second_factor(client, officer)
    response = client.get("/admin/reports/?status=due")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2Freports%2F%3Fstatus%3Ddue"
    assert signed_in_user_id(client) is None
    assert "Sign in again with your authenticator app to use the staff area." in messages_of(response)


def test_staff_who_remove_their_app_must_set_up_a_new_one(officer):
    give_totp(officer)
    client = Client()
    sign_in(client, officer)
    client.post(MFA_AUTHENTICATE, {"code": totp_code(officer)})
    assert client.get("/admin/").status_code == 200
    client.post("/en/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.post("/en/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=officer, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/")["Location"] == ACTIVATE


def test_applicant_is_not_asked_for_a_second_factor_and_signs_in_by_email_code(applicant):
    client = Client()
    response = client.post("/en/accounts/login/code/", {"email": applicant.email})
    assert response.status_code == 302
    [message] = mail.outbox
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE).group(1)
    response = client.post("/en/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] != MFA_AUTHENTICATE
    assert signed_in_user_id(client) == str(applicant.pk)
    assert client.get("/en/dashboard/").status_code == 200


def test_applicant_who_turned_on_the_app_is_asked_for_it(applicant):
    give_totp(applicant)
    client = Client()
    response = sign_in(client, applicant, next_url="/en/dashboard/")
    assert response["Location"] == MFA_AUTHENTICATE
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code(applicant)})
    assert response["Location"] == "/en/dashboard/"


def test_staff_cannot_keep_a_stale_second_factor_from_another_account(officer, applicant):
    """The session's record of a passed second factor belongs to the account that passed it."""
    give_totp(officer)
    client = Client()
    client.force_login(applicant)  # applicant's session passed a second factor
    force_login_without_second_factor(client, officer)  # then someone signs in as the officer
    assert client.get("/admin/")["Location"].startswith(LOGIN)


# --- Idle staff sessions ---------------------------------------------------------------------


def test_idle_staff_session_ends_after_the_configured_minutes(officer, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 20
    give_totp(officer)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        client.force_login(officer)
        assert client.get("/admin/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=20, seconds=1))
        response = client.get("/admin/applications/")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2Fapplications%2F"
    assert signed_in_user_id(client) is None
    assert "You were signed out after 20 minutes without activity." in messages_of(response)


def test_active_staff_session_stays_signed_in(officer, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 20
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        client.force_login(officer)
        for _ in range(6):  # an hour in all, never 20 minutes apart
            traveller.shift(datetime.timedelta(minutes=10))
            assert client.get("/admin/").status_code == 200
        # Public pages count as activity too, and idle time ends the session there as well.
        traveller.shift(datetime.timedelta(minutes=15))
        assert client.get("/en/dashboard/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=15))
        assert client.get("/admin/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=21))
        response = client.get("/en/dashboard/")
    assert response["Location"] == f"{LOGIN}?next=%2Fen%2Fdashboard%2F"
    assert signed_in_user_id(client) is None


def test_session_is_not_saved_on_every_request(officer):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        client.force_login(officer)
        client.get("/admin/")
        first = client.session[LAST_ACTIVITY_KEY]
        traveller.shift(datetime.timedelta(seconds=30))
        client.get("/admin/")
        assert client.session[LAST_ACTIVITY_KEY] == first
        traveller.shift(datetime.timedelta(seconds=31))
        client.get("/admin/")
        assert client.session[LAST_ACTIVITY_KEY] > first


def test_applicant_sessions_do_not_expire_when_idle(applicant, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 20
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        client.force_login(applicant)
        traveller.shift(datetime.timedelta(hours=5))
        assert client.get("/en/dashboard/").status_code == 200
    assert signed_in_user_id(client) == str(applicant.pk)
    assert LAST_ACTIVITY_KEY not in client.session


def test_idle_message_is_translated(officer, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        client.force_login(officer)
        traveller.shift(datetime.timedelta(minutes=31))
        response = client.get("/es/dashboard/", follow=True)
    assert response.redirect_chain[0][0].startswith("/es/accounts/login/")
    with translation.override("es"):
        expected = translation.ngettext(
            "You were signed out after %(minutes)d minute without activity.",
            "You were signed out after %(minutes)d minutes without activity.",
            30,
        ) % {"minutes": 30}
    assert expected in text(response)


# --- Throttling ------------------------------------------------------------------------------


def test_failed_sign_ins_lock_the_account_until_the_window_passes(officer, settings):
    attempts, minutes = settings.LOGIN_LOCKOUT_ATTEMPTS, settings.LOGIN_LOCKOUT_MINUTES
    give_totp(officer)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        for _ in range(attempts):
            response = sign_in(client, officer, password="not the password")
            assert "The email address and/or password you specified are not correct." in text(response)
        # Locked: even the right password is refused, with the reason.
        response = sign_in(client, officer)
        assert response.status_code == 200
        assert THROTTLED in text(response)
        assert signed_in_user_id(client) is None
        # From another address too: the lock is on the account.
        other_ip = Client(REMOTE_ADDR="203.0.113.9")
        assert THROTTLED in text(sign_in(other_ip, officer))
        traveller.shift(datetime.timedelta(minutes=minutes, seconds=1))
        response = sign_in(client, officer)
        assert response["Location"] == MFA_AUTHENTICATE


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(db):
    users = [verified(UserFactory()) for _ in range(25)]
    client = Client()
    results = [text(sign_in(client, user, password="guess")) for user in users]
    assert not any(THROTTLED in result for result in results[:20])
    assert all(THROTTLED in result for result in results[20:])


def test_wrong_authenticator_codes_are_limited(officer, settings):
    give_totp(officer)
    client = Client()
    sign_in(client, officer)
    for _ in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        assert "Incorrect code." in text(client.post(MFA_AUTHENTICATE, {"code": "000001"}))
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code(officer)})
    assert THROTTLED in text(response)
    assert signed_in_user_id(client) is None


def test_login_link_view_is_throttled_and_unlocks(applicant):
    url = reverse("login_link", kwargs={"token": "not-a-token"})
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        for _ in range(20):
            assert client.post(url).status_code == 400
        response = client.post(url)
        assert response.status_code == 429
        # A good link waits too: guessing must not pay off.
        token = make_login_link_token(user=applicant, email=applicant.email)
        good = reverse("login_link", kwargs={"token": token})
        assert client.get(good).status_code == 429
        assert client.post(good).status_code == 429
        assert signed_in_user_id(client) is None
        traveller.shift(datetime.timedelta(minutes=10, seconds=1))
        token = make_login_link_token(user=applicant, email=applicant.email)
        good = reverse("login_link", kwargs={"token": token})
        assert client.get(good).status_code == 200
        assert client.post(good).status_code == 302
    assert signed_in_user_id(client) == str(applicant.pk)


def test_donor_link_form_is_throttled_per_address_and_unlocks(db):
    url = reverse("donation_manage_request")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        for _ in range(3):
            assert client.post(url, {"email": "donor@example.org"}).status_code == 200
        response = client.post(url, {"email": "Donor@Example.org "})
        assert response.status_code == 429
        assert "Too many attempts" in text(response)
        # Another address from the same place is still served.
        assert client.post(url, {"email": "someone@example.org"}).status_code == 200
        traveller.shift(datetime.timedelta(hours=1, seconds=1))
        assert client.post(url, {"email": "donor@example.org"}).status_code == 200


def test_donor_link_form_is_throttled_per_ip_address(db):
    url = reverse("donation_manage_request")
    client = Client()
    statuses = [client.post(url, {"email": f"person{n}@example.org"}).status_code for n in range(11)]
    assert statuses == [200] * 10 + [429]


def test_too_many_requests_page_is_in_the_visitors_language(db):
    client = Client()
    url = reverse("login_link", kwargs={"token": "x"}).replace("/en/", "/es/")
    for _ in range(20):
        client.post(url)
    response = client.post(url)
    assert response.status_code == 429
    with translation.override("es"):
        title = translation.gettext("Too many attempts")
        advice = translation.gettext("Please wait a few minutes, then try again.")
    assert '<html lang="es">' in text(response)
    assert title in text(response) and advice in text(response)
    assert 'class="site-header"' in text(response)  # the site's own layout


def test_email_code_requests_are_limited_per_address(applicant):
    for _ in range(3):
        Client().post("/en/accounts/login/code/", {"email": applicant.email})
    assert len(mail.outbox) == 3
    response = Client().post("/en/accounts/login/code/", {"email": applicant.email})
    assert THROTTLED in text(response)  # allauth says so on the form
    assert len(mail.outbox) == 3


def test_password_reset_emails_are_limited_per_address(applicant):
    client = Client()
    for _ in range(3):
        client.post("/en/accounts/password/reset/", {"email": applicant.email})
    assert len(mail.outbox) == 3
    response = client.post("/en/accounts/password/reset/", {"email": applicant.email})
    assert response.status_code == 429
    assert len(mail.outbox) == 3


# --- Passwords -------------------------------------------------------------------------------


def test_weak_password_is_refused_at_sign_up(db):
    response = Client().post(
        "/en/accounts/signup/",
        {
            "first_name": "Nuevo",
            "email": "new@example.org",
            "password1": "password",
            "password2": "password",
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    assert "This password is too common." in text(response)
    assert not EmailAddress.objects.filter(email="new@example.org").exists()


def test_weak_password_is_refused_when_changing_it(applicant, client):
    client.force_login(applicant)
    response = client.post(
        "/en/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert "This password is entirely numeric." in text(response)
    applicant.refresh_from_db()
    assert applicant.check_password(PASSWORD)


# --- Security keys and passkeys (WebAuthn; the browser ceremony is in tests/e2e/test_security_keys.py)


# A registration as Chromium's virtual authenticator answered it (no secret: a public key).
CREDENTIAL = json.loads((pathlib.Path(__file__).parent / "data" / "webauthn_credential.json").read_text())


def security_key(user, name="Office key") -> Authenticator:
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": name, "credential": CREDENTIAL}
    )


def test_staff_with_only_a_security_key_are_asked_to_sign_in_with_it_not_to_set_up_an_app(officer):
    security_key(officer)
    client = Client()
    force_login_without_second_factor(client, officer)
    response = client.get("/admin/")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"
    assert signed_in_user_id(client) is None


def test_a_security_key_is_offered_at_sign_in_only_to_its_owner(officer, applicant):
    security_key(officer)
    give_totp(officer)
    client = Client()
    sign_in(client, officer)
    page = text(client.get(MFA_AUTHENTICATE))
    assert "Use my security key or passkey" in page and 'id="js_data"' in page
    give_totp(applicant)
    other = Client()
    sign_in(other, applicant, next_url="/en/dashboard/")
    assert "Use my security key or passkey" not in text(other.get(MFA_AUTHENTICATE))


def test_nobody_can_rename_or_remove_someone_elses_key(officer, applicant):
    key = security_key(applicant, name="Ana's key")
    mine = security_key(officer)
    give_totp(officer)
    client = Client()
    sign_in(client, officer)
    client.post(MFA_AUTHENTICATE, {"code": totp_code(officer)})
    client.post("/en/accounts/reauthenticate/", {"password": PASSWORD})
    for action in ("edit", "remove"):
        assert client.get(f"/en/accounts/2fa/webauthn/keys/{key.pk}/{action}/").status_code == 404
        assert (
            client.post(f"/en/accounts/2fa/webauthn/keys/{key.pk}/{action}/", {"name": "x"}).status_code
            == 404
        )
    assert client.get(f"/en/accounts/2fa/webauthn/keys/{mine.pk}/edit/").status_code == 200
    key.refresh_from_db()
    assert key.data["name"] == "Ana's key"
    assert "Ana's key" not in text(client.get("/en/accounts/2fa/webauthn/"))


def test_removing_a_key_while_the_app_remains_keeps_the_staff_session(officer):
    give_totp(officer)
    key = security_key(officer)
    client = Client()
    sign_in(client, officer)
    client.post(MFA_AUTHENTICATE, {"code": totp_code(officer)})
    client.post("/en/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.post(f"/en/accounts/2fa/webauthn/keys/{key.pk}/remove/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=key.pk).exists()
    assert client.get("/admin/").status_code == 200
