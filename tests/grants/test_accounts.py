"""Applicant accounts: sign-up in the page's language, email verification, password and
passwordless sign-in (code and one-time link), password reset, staff admin login."""

import datetime
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from grants.models import User
from tests.factories import UserFactory
from tests.security_helpers import give_totp, totp_code

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    # allauth counts attempts in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def applicant(db):
    """A person who signed up and confirmed their email address."""
    user = UserFactory(email="ana@example.org", first_name="Ana", preferred_language="en")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def links_in(message) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", message.body)


def request_code(client, email, *, lang="en", next_url=None):
    data = {"email": email}
    if next_url:
        data["next"] = next_url
    return client.post(f"/{lang}/accounts/login/code/", data)


def code_in(message) -> str:
    # allauth's sign-in codes look like "KHMQ-HDRB".
    match = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


def login_link_in(message) -> str:
    links = [link for link in links_in(message) if "/accounts/login/link/" in link]
    assert len(links) == 1, message.body
    return links[0]


def after_login_url() -> str:
    """The applicant dashboard once the URL exists; the site root until then."""
    with translation.override("en"):
        try:
            return reverse("dashboard")
        except NoReverseMatch:
            return "/"


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- Sign-up ---------------------------------------------------------------------------


def test_signup_on_spanish_page_stores_name_and_language_and_sends_spanish_verification(db):
    client = Client()
    response = client.post(
        "/es/accounts/signup/",
        {
            "first_name": "Lucía",
            "email": "Lucia@Example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "es",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="lucia@example.org")
    assert user.first_name == "Lucía"
    assert user.preferred_language == "es"
    assert signed_in_user(client) is None  # not before the address is confirmed

    [message] = mail.outbox
    assert message.to == ["lucia@example.org"]
    assert "Por favor, confirme su dirección de correo electrónico" in message.subject
    [activate_url] = [link for link in links_in(message) if "/confirm-email/" in link]
    assert "/es/accounts/confirm-email/" in activate_url

    # Confirming the address in the same browser signs the person in.
    path = activate_url.split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert signed_in_user(client) == user


def test_signup_form_preselects_the_language_of_the_page(db):
    spanish = Client().get("/es/accounts/signup/")
    english = Client().get("/en/accounts/signup/")
    assert spanish.context["form"].fields["preferred_language"].initial == "es"
    assert english.context["form"].fields["preferred_language"].initial == "en"
    assert re.search(r'<input[^>]*value="es"[^>]*checked', spanish.content.decode())


def test_signup_in_english_chosen_on_spanish_page_sends_english_email(db):
    Client().post(
        "/es/accounts/signup/",
        {
            "first_name": "Sam",
            "email": "sam@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "en",
        },
    )
    [message] = mail.outbox
    assert message.subject == "[Fund portal] Please confirm your email address"
    assert "/en/accounts/confirm-email/" in message.body


def test_signup_with_a_weak_password_shows_the_error_and_keeps_what_was_typed(db):
    response = Client().post(
        "/en/accounts/signup/",
        {
            "first_name": "Rosa",
            "email": "rosa@example.org",
            "password1": "12345678",
            "password2": "12345678",
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="rosa@example.org").exists()
    html = response.content.decode()
    assert "This password is too common." in html
    assert 'id="id_password1_error"' in html
    assert 'value="rosa@example.org"' in html
    assert 'value="Rosa"' in html
    assert mail.outbox == []


def test_signup_needs_a_name(db):
    response = Client().post(
        "/en/accounts/signup/",
        {
            "email": "noname@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    assert "first_name" in response.context["form"].errors
    assert not User.objects.filter(email="noname@example.org").exists()


def test_pages_are_in_the_portal_layout_and_translated(db):
    response = Client().get("/es/accounts/login/")
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert 'class="site-header"' in html
    assert "<h1>Iniciar sesión</h1>" in html
    assert "Contraseña" in html


# --- Password sign-in ------------------------------------------------------------------


def test_login_with_email_and_password(applicant):
    client = Client()
    response = client.post("/en/accounts/login/", {"login": "ANA@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == after_login_url()
    assert signed_in_user(client) == applicant


def test_wrong_password_is_refused_and_keeps_the_email(applicant):
    client = Client()
    response = client.post("/en/accounts/login/", {"login": applicant.email, "password": "wrong"})
    assert response.status_code == 200
    assert signed_in_user(client) is None
    html = response.content.decode()
    assert 'role="alert"' in html
    assert f'value="{applicant.email}"' in html


def test_unverified_account_cannot_sign_in_and_gets_a_new_verification_email(db):
    user = UserFactory(email="new@example.org")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    client = Client()
    client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert signed_in_user(client) is None
    assert len(mail.outbox) == 1
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_logout(applicant):
    client = Client()
    client.force_login(applicant)
    response = client.post("/en/accounts/logout/")
    assert response.status_code == 302
    assert signed_in_user(client) is None


def test_staff_sign_in_to_wagtail_admin_with_email_and_authenticator_code(db):
    staff = User.objects.create_superuser(email="officer@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    give_totp(staff)
    client = Client()
    # Wagtail's sign-in URL leads to the one sign-in page, which leads back to the admin.
    response = client.get("/admin/login/")
    assert response["Location"] == "/en/accounts/login/?next=%2Fadmin%2F"
    response = client.post(
        "/en/accounts/login/", {"login": "officer@example.org", "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user(client) is None
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(staff)})
    assert response["Location"] == "/admin/"
    assert signed_in_user(client) == staff


# --- Sign-in by code and by the one-time link ------------------------------------------


def test_login_by_code(applicant):
    client = Client()
    response = request_code(client, applicant.email)
    assert response.status_code == 302
    [message] = mail.outbox
    response = client.post("/en/accounts/login/code/confirm/", {"code": code_in(message)})
    assert response.status_code == 302
    assert signed_in_user(client) == applicant


def test_wrong_code_is_refused(applicant):
    client = Client()
    request_code(client, applicant.email)
    response = client.post("/en/accounts/login/code/confirm/", {"code": "WRONG1"})
    assert response.status_code == 200
    assert signed_in_user(client) is None


def test_login_link_works_in_another_browser_after_a_confirmation_click(applicant):
    request_code(Client(), applicant.email, next_url="/en/organizations/")
    link = login_link_in(mail.outbox[0])
    assert link.startswith("http://testserver/en/accounts/login/link/")

    phone = Client()
    response = phone.get(link)  # what a mail scanner would do: nothing happens
    assert response.status_code == 200
    assert signed_in_user(phone) is None

    response = phone.post(link)
    assert response.status_code == 302
    assert response["Location"] == "/en/organizations/"
    assert signed_in_user(phone) == applicant


def test_login_link_is_single_use(applicant):
    request_code(Client(), applicant.email)
    link = login_link_in(mail.outbox[0])
    assert Client().post(link).status_code == 302

    again = Client()
    response = again.post(link)
    assert response.status_code == 400
    assert "already been used" in response.content.decode()
    assert signed_in_user(again) is None
    assert again.get(link).status_code == 400


def test_login_link_dies_when_the_code_is_used(applicant):
    browser = Client()
    request_code(browser, applicant.email)
    message = mail.outbox[0]
    browser.post("/en/accounts/login/code/confirm/", {"code": code_in(message)})
    assert signed_in_user(browser) == applicant

    response = Client().post(login_link_in(message))
    assert response.status_code == 400


def test_login_link_expires_with_the_code(applicant):
    start = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        request_code(Client(), applicant.email)
        link = login_link_in(mail.outbox[0])
    with time_machine.travel(start + datetime.timedelta(seconds=599), tick=False):
        assert Client().get(link).status_code == 200
    with time_machine.travel(start + datetime.timedelta(seconds=601), tick=False):
        late = Client()
        response = late.post(link)
        assert response.status_code == 400
        assert "expired" in response.content.decode()
        assert signed_in_user(late) is None


def test_altered_login_link_is_refused(applicant):
    request_code(Client(), applicant.email)
    link = login_link_in(mail.outbox[0])
    tampered = link[:-6] + ("A" if link[-6] != "A" else "B") + link[-5:]
    client = Client()
    assert client.post(tampered).status_code == 400
    assert signed_in_user(client) is None


def test_login_link_refused_after_password_change(applicant):
    request_code(Client(), applicant.email)
    link = login_link_in(mail.outbox[0])
    applicant.set_password(NEW_PASSWORD)
    applicant.save()
    assert Client().post(link).status_code == 400


def test_login_link_refused_for_deactivated_account(applicant):
    request_code(Client(), applicant.email)
    link = login_link_in(mail.outbox[0])
    applicant.is_active = False
    applicant.save()
    assert Client().post(link).status_code == 400


def test_login_link_ignores_an_outside_next_url(applicant):
    request_code(Client(), applicant.email, next_url="https://evil.example.com/")
    response = Client().post(login_link_in(mail.outbox[0]))
    assert response.status_code == 302
    assert "evil" not in response["Location"]


def test_login_link_verifies_the_email_address(db):
    # An account made outside sign-up (e.g. by staff) has no confirmed address yet.
    user = UserFactory(email="made-by-staff@example.org")
    request_code(Client(), user.email)
    client = Client()
    client.post(login_link_in(mail.outbox[0]))
    assert signed_in_user(client) == user
    assert EmailAddress.objects.get(user=user).verified


def test_code_email_goes_out_in_the_users_language_with_a_link_in_that_language(applicant):
    applicant.preferred_language = "es"
    applicant.save()
    request_code(Client(), applicant.email, lang="en")
    [message] = mail.outbox
    assert message.subject == "[Portal de fondos] Su código de inicio de sesión"
    assert "/es/accounts/login/link/" in login_link_in(message)


def test_unknown_address_gets_no_code_and_no_link(db):
    request_code(Client(), "nobody@example.org")
    [message] = mail.outbox
    assert "/accounts/login/link/" not in message.body
    assert not re.search(r"^\s*[A-Z0-9]{4}-[A-Z0-9]{4}\s*$", message.body, re.MULTILINE)


# --- Password reset --------------------------------------------------------------------


def test_password_reset_by_email(applicant):
    applicant.preferred_language = "es"
    applicant.save()
    client = Client()
    response = client.post("/en/accounts/password/reset/", {"email": applicant.email})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [applicant.email]
    assert message.subject == "[Portal de fondos] Elija una nueva contraseña"
    [reset_url] = [link for link in links_in(message) if "/password/reset/key/" in link]
    assert "/es/accounts/password/reset/key/" in reset_url

    path = "/" + reset_url.split("://", 1)[1].split("/", 1)[1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.check_password(NEW_PASSWORD)

    # The link is spent once used.
    response = Client().get(path, follow=True)
    assert response.context.get("token_fail")
