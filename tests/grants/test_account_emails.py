"""Account emails are the portal's own: they name the site (never the host), speak formal
Spanish ("usted") to people who prefer Spanish, and come as text with an HTML alternative.

Each is produced by allauth's real flow through the test client."""

import re
from pathlib import Path

import allauth
import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from wagtail.models import Site

from cms.models import BrandingSettings
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase 42"
HOST = "testserver"  # the test client's host: what allauth's ``current_site`` used to name
# Forms of "tú" and allauth's stock greeting; none may reach a Spanish email.
INFORMAL = [r"\btu\b", r"\btú\b", r"\bpuedes\b", r"\bhaz clic\b", r"¡Hola de parte", r"\btienes\b",
            r"\bestás\b", r"\bingresa\b", r"\brecibes\b", r"\btus\b"]  # fmt: skip
SITE_NAME = {"en": "Fund portal", "es": "Portal de fondos"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


def person(language: str, email: str = "ana@example.org"):
    user = UserFactory(email=email, first_name="Ana", preferred_language=language)
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def without_links(text: str) -> str:
    return re.sub(r"https?://\S+", "", text)


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def assert_portal_email(message, language: str, *, site_name: str | None = None):
    """The email names the site in ``language``, not the host, and in Spanish uses "usted"."""
    site_name = site_name or SITE_NAME[language]
    html = html_of(message)
    assert message.subject.startswith(f"[{site_name}] ")
    assert site_name in message.body
    assert site_name in html
    assert f'<html lang="{language}">' in html
    for text in (
        message.subject,
        without_links(message.body),
        re.sub(r'href="[^"]*"', "", without_links(html)),
    ):
        assert HOST not in text
        assert "Hello from" not in text and "Thank you for using" not in text
        if language == "es":
            informal = [marker for marker in INFORMAL if re.search(marker, text, re.IGNORECASE)]
            assert informal == [], text
    # Every link in the text is a link in the HTML.
    for link in re.findall(r"https?://\S+", message.body):
        assert f'href="{link}"' in html


def signup(language_of_page: str, preferred_language: str, email: str = "lucia@example.org"):
    return Client().post(
        f"/{language_of_page}/accounts/signup/",
        {
            "first_name": "Lucía",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": preferred_language,
        },
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_signup_confirmation(db, language):
    other = "es" if language == "en" else "en"
    signup(other, language)  # the chosen language wins over the page's
    [message] = mail.outbox
    assert_portal_email(message, language)
    assert f"/{language}/accounts/confirm-email/" in message.body
    if language == "es":
        assert message.subject == "[Portal de fondos] Por favor, confirme su dirección de correo electrónico"
        assert "Hola, Lucía:" in message.body
        assert "Gracias por crear una cuenta en Portal de fondos." in message.body
    else:
        assert message.subject == "[Fund portal] Please confirm your email address"
        assert "Hello Lucía," in message.body


@pytest.mark.parametrize("language", ["en", "es"])
def test_password_reset(db, language):
    user = person(language)
    Client().post("/en/accounts/password/reset/", {"email": user.email})
    [message] = mail.outbox
    assert_portal_email(message, language)
    assert f"/{language}/accounts/password/reset/key/" in message.body
    if language == "es":
        assert "Alguien, quizá usted, pidió restablecer la contraseña" in message.body


@pytest.mark.parametrize("language", ["en", "es"])
def test_login_code(db, language):
    user = person(language)
    Client().post("/en/accounts/login/code/", {"email": user.email})
    [message] = mail.outbox
    assert_portal_email(message, language)
    assert re.search(r"^\s*[A-Z0-9]{4}-[A-Z0-9]{4}\s*$", message.body, re.MULTILINE)
    if language == "es":
        assert "Su código de inicio de sesión aparece abajo." in message.body


@pytest.mark.parametrize("language", ["en", "es"])
def test_signing_up_again_with_a_known_address_tells_the_owner(db, language):
    person(language, email="lucia@example.org")
    signup("en", "en", email="lucia@example.org")
    [message] = mail.outbox
    assert_portal_email(message, language)
    assert "/accounts/password/reset/" in message.body


@pytest.mark.parametrize("language", ["en", "es"])
def test_unknown_address_is_told_there_is_no_account_in_the_page_language(db, language):
    Client().post(f"/{language}/accounts/password/reset/", {"email": "nobody@example.org"})
    [message] = mail.outbox
    assert_portal_email(message, language)
    assert f"/{language}/accounts/signup/" in message.body


@pytest.mark.parametrize("language", ["en", "es"])
def test_password_change_notice(db, language):
    user = person(language)
    client = Client()
    client.force_login(user)
    response = client.post(
        "/en/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert_portal_email(message, language)
    expected = "Se cambió su contraseña." if language == "es" else "Your password was changed."
    assert expected in message.body


def test_wrong_old_password_changes_nothing_and_sends_nothing(db):
    user = person("es")
    client = Client()
    client.force_login(user)
    client.post(
        "/en/accounts/password/change/",
        {"oldpassword": "not it at all", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert mail.outbox == []


def test_the_spanish_site_name_of_the_branding_settings_is_used(db):
    branding = BrandingSettings.for_site(Site.objects.get(is_default_site=True))
    branding.site_name = "Community Defense Fund"
    branding.translations = {"es": {"site_name": "Fondo de Defensa Comunitaria"}}
    branding.save()
    spanish, english = person("es"), person("en", email="sam@example.org")
    Client().post("/en/accounts/login/code/", {"email": spanish.email})
    Client().post("/es/accounts/login/code/", {"email": english.email})
    assert_portal_email(mail.outbox[0], "es", site_name="Fondo de Defensa Comunitaria")
    assert_portal_email(mail.outbox[1], "en", site_name="Community Defense Fund")
    assert "Fund portal" not in mail.outbox[0].body


def test_a_site_named_only_in_english_keeps_its_name_in_spanish(db):
    branding = BrandingSettings.for_site(Site.objects.get(is_default_site=True))
    branding.site_name = "Bay Area Rapid Response"
    branding.translations = {}
    branding.save()
    assert branding.site_name_for("es") == "Bay Area Rapid Response"
    branding.site_name = "Fund portal"
    assert branding.site_name_for("es") == "Portal de fondos"  # the default name is translated
    assert branding.site_name_for("en") == "Fund portal"


def test_every_email_allauth_can_send_is_the_portals_own():
    """An allauth upgrade that adds an email fails here until the portal has its own."""
    ours = Path(settings.BASE_DIR) / "templates"
    theirs = Path(allauth.__file__).parent / "templates"
    missing = []
    for folder in ("account/email", "mfa/email"):
        for template in sorted((theirs / folder).glob("*.txt")):
            name = f"{folder}/{template.name}"
            if not (ours / name).exists():
                missing.append(name)
            if template.name.endswith("_message.txt") and not template.name.startswith("base_"):
                html = name.removesuffix(".txt") + ".html"
                if not (ours / html).exists():
                    missing.append(html)
    assert missing == []


def test_branding_in_a_third_language_is_configuration(db, settings):
    """A language added in the settings gets its own site name and tagline from the branding's
    translations, and the branding form offers an input for it: no column, no code."""
    from cms.models import BrandingSettings as Branding
    from grants.forms.translations import add_translation_fields

    settings.LANGUAGES = [*settings.LANGUAGES, ("pt", "Português")]
    branding = Branding.for_site(Site.objects.get(is_default_site=True))
    branding.site_name = "Community Defense Fund"
    branding.tagline = "Safe money"
    branding.translations = {"pt": {"site_name": "Fundo de Defesa Comunitária", "tagline": "Dinheiro seguro"}}
    branding.save()
    assert branding.site_name_for("pt") == "Fundo de Defesa Comunitária"
    assert branding.tagline_for("pt") == "Dinheiro seguro"
    assert branding.site_name_for("es") == "Community Defense Fund"  # no Spanish name: the first one
    from wagtail.contrib.settings.views import get_setting_edit_handler

    form = get_setting_edit_handler(Branding).get_form_class()(instance=branding, for_user=None)
    add_translation_fields(form, Branding, instance=branding)
    assert form.initial["site_name_pt"] == "Fundo de Defesa Comunitária" and "tagline_pt" in form.fields
