"""Encryption at rest: sensitive answers and stored Stripe secrets are tokens in the database,
plain values in the portal; keys rotate without losing anything; a missing key or a damaged
token is a clear error, never an empty value; foundation admins store their Stripe keys
write-only, and the stored keys win over the environment."""

import json
import os
import subprocess
import sys
import time
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from djmoney.money import Money

from grants import crypto
from grants.demo_questions import eligibility_json, questions_json
from grants.fields import EncryptedJSONField, EncryptedTextField, encrypted_fields
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationVersion,
    Role,
    StripeAccountSecrets,
    WebhookEvent,
)
from grants.payments.credentials import credentials_for, save_stripe_secrets, simulated_credentials
from grants.payments.signing import sign_payload
from grants.services import applications as application_service
from tests import pages
from tests.factories import FoundationFactory, FundingCallFactory, UserFactory
from tests.grants.money_fixtures import staff
from tests.grants.test_applications import _draft

pytestmark = pytest.mark.django_db

SENSITIVE = "Retaliation by employers."
SECRET_KEY = "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz"
WEBHOOK_SECRET = "whsec_Pl4tformSigningSecretABCDEFGHIJ0123"
CONNECT_SECRET = "whsec_C0nnectSigningSecretABCDEFGHIJ4567"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw(model, field: str, pk) -> str:
    """The column exactly as the database holds it (what a dump or a stolen disk shows)."""
    table, column = model._meta.db_table, model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()[0]


def raw_row(model, pk) -> str:
    """Every column of the row, as text."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)} WHERE id = %s", [pk])
        return " ".join(str(value) for value in cursor.fetchone())


def write_raw(model, field: str, pk, value: str) -> None:
    table, column = model._meta.db_table, model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET {connection.ops.quote_name(column)} = %s "
            "WHERE id = %s",
            [value, pk],
        )


def call_setup(site, world) -> dict:
    """An open call of the world's fund with the demo questions (one of them sensitive)."""
    call = FundingCallFactory(
        fund=world["fund"], min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD")
    )
    fund_pages = pages.add_fund_page(site, world["fund"])
    call_page = pages.add_call_page(fund_pages, call, questions=questions_json, eligibility=eligibility_json)[
        0
    ]
    return {
        "call": call,
        "page": call_page,
        "applicant": world["grantee"],
        "organization": world["organization"],
    }


@pytest.fixture
def submitted(site, world):
    """An application submitted through the service, with an answer to a sensitive question."""
    setup = call_setup(site, world)
    application, sections = _draft(setup)
    application_service.submit_application(application, sections=sections, by=setup["applicant"],
                                           actor="applicant")  # fmt: skip
    application.refresh_from_db()
    return application


@pytest.fixture
def admin(world):
    return staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org", first_name="Rosa",
                 last_name="Admin")  # fmt: skip


# --- At rest ----------------------------------------------------------------------------------


def test_a_submitted_sensitive_answer_is_a_token_in_the_database_and_plain_in_the_portal(submitted):
    version = ApplicationVersion.objects.get(application=submitted)

    for model, pk in ((Application, submitted.pk), (ApplicationVersion, version.pk)):
        stored = raw(model, "sensitive_answers", pk)
        assert stored.startswith("gAAAAA")  # a Fernet token
        assert "Retaliation" not in stored and "demo-a5" not in stored
        assert "Retaliation" not in raw_row(model, pk)
    # Non-sensitive answers stay plain JSON (queryable), and never hold the sensitive one.
    assert "Two lawyers" in raw(Application, "answers", submitted.pk)
    assert Application.objects.get(pk=submitted.pk).sensitive_answers == {"demo-a5": SENSITIVE}
    assert ApplicationVersion.objects.get(pk=version.pk).sensitive_answers == {"demo-a5": SENSITIVE}
    assert list(Application.objects.values_list("sensitive_answers", flat=True)) == [{"demo-a5": SENSITIVE}]


def test_a_stored_stripe_secret_is_a_token_in_the_database_and_plain_in_the_portal(world, admin):
    save_stripe_secrets(world["foundation"], by=admin, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET,
                        connect_webhook_secret=CONNECT_SECRET)  # fmt: skip

    row = StripeAccountSecrets.objects.get(foundation=world["foundation"])
    everything = raw_row(StripeAccountSecrets, row.pk)
    for secret in (SECRET_KEY, WEBHOOK_SECRET, CONNECT_SECRET):
        assert secret not in everything
        assert secret[6:-4] not in everything
    assert raw(StripeAccountSecrets, "secret_key", row.pk).startswith("gAAAAA")
    assert (row.secret_key, row.webhook_secret, row.connect_webhook_secret) == (
        SECRET_KEY, WEBHOOK_SECRET, CONNECT_SECRET,
    )  # fmt: skip
    assert row.secret_key_last4 == "wxyz"
    assert SECRET_KEY not in repr(row)


def test_erasing_answers_stores_an_encrypted_empty_dict(submitted):
    submitted.sensitive_answers = {}
    submitted.save(update_fields=["sensitive_answers"])
    assert raw(Application, "sensitive_answers", submitted.pk).startswith("gAAAAA")
    assert Application.objects.get(pk=submitted.pk).sensitive_answers == {}

    version = submitted.versions.get()
    ApplicationVersion.objects.filter(pk=version.pk).update(sensitive_answers={})
    assert "Retaliation" not in raw(ApplicationVersion, "sensitive_answers", version.pk)
    assert ApplicationVersion.objects.get(pk=version.pk).sensitive_answers == {}


def test_a_new_application_starts_with_an_encrypted_empty_dict(site, world):
    setup = call_setup(site, world)
    application = application_service.start_application(
        call=setup["call"], organization=setup["organization"], by=setup["applicant"], language="en"
    )
    assert application.sensitive_answers == {}
    assert raw(Application, "sensitive_answers", application.pk) != "{}"
    assert Application.objects.get(pk=application.pk).sensitive_answers == {}


def test_encrypted_values_cannot_be_queried_by_content(submitted):
    with pytest.raises(FieldError):
        list(Application.objects.filter(sensitive_answers__contains="Retaliation"))
    with pytest.raises(FieldError):
        list(Application.objects.filter(sensitive_answers={"demo-a5": SENSITIVE}))
    with pytest.raises(FieldError):
        list(StripeAccountSecrets.objects.filter(secret_key=SECRET_KEY))
    assert Application.objects.filter(sensitive_answers__isnull=False).count() == 1


def test_blank_and_null_secrets_are_kept_as_not_set(world, admin):
    save_stripe_secrets(world["foundation"], by=admin, secret_key=SECRET_KEY)
    row = StripeAccountSecrets.objects.get()
    assert raw(StripeAccountSecrets, "webhook_secret", row.pk) == ""
    assert row.webhook_secret == ""
    field = EncryptedTextField()
    assert field.get_prep_value(None) is None and field.get_prep_value("") == ""
    assert field.from_db_value(None, None, connection) is None


def test_fields_deconstruct_for_migrations_and_refuse_indexes():
    _name, path, _args, kwargs = EncryptedJSONField(default=dict, blank=True).deconstruct()
    assert path == "grants.fields.EncryptedJSONField" and kwargs == {"default": dict, "blank": True}
    field = Application._meta.get_field("sensitive_answers")
    assert field.db_type(connection) == connection.data_types["TextField"]
    pairs = {(model._meta.label, field.name) for model, field in encrypted_fields()}
    assert {("grants.Application", "sensitive_answers"), ("grants.ApplicationVersion", "sensitive_answers"),
            ("grants.StripeAccountSecrets", "secret_key"), ("grants.StripeAccountSecrets", "webhook_secret"),
            ("grants.StripeAccountSecrets", "connect_webhook_secret")} <= pairs  # fmt: skip
    indexed = EncryptedTextField(db_index=True)
    indexed.set_attributes_from_name("token")
    assert [error.id for error in indexed.check()] == ["grants.E001"]


def test_no_model_change_is_left_without_a_migration():
    call_command("makemigrations", "grants", "--check", "--dry-run", verbosity=0)


# --- Damaged tokens and missing keys -------------------------------------------------------------


def test_a_garbled_token_is_a_clear_error_not_an_empty_value(submitted):
    token = raw(Application, "sensitive_answers", submitted.pk)
    garbled = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    write_raw(Application, "sensitive_answers", submitted.pk, garbled)

    with pytest.raises(crypto.DecryptionError) as error:
        Application.objects.get(pk=submitted.pk)
    assert "grants.Application.sensitive_answers" in str(error.value)
    assert "FIELD_ENCRYPTION_KEYS" in str(error.value)

    write_raw(Application, "sensitive_answers", submitted.pk, json.dumps({"demo-a5": SENSITIVE}))
    with pytest.raises(crypto.DecryptionError):
        Application.objects.get(pk=submitted.pk)
    # The rest of the row can still be read, e.g. by the lists that never show answers.
    assert Application.objects.defer("sensitive_answers").get(pk=submitted.pk).reference


def test_removing_the_old_key_without_rotating_makes_values_unreadable(submitted, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    submitted.sensitive_answers = {"demo-a5": SENSITIVE}
    submitted.save(update_fields=["sensitive_answers"])

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(crypto.DecryptionError) as error:
        Application.objects.get(pk=submitted.pk)
    assert SENSITIVE not in str(error.value)
    assert "rotate_encryption_keys" in str(error.value)
    # Rotating cannot help without the old key: it says which rows, and changes nothing.
    before = raw(Application, "sensitive_answers", submitted.pk)
    with pytest.raises(CommandError, match=rf"grants\.Application\.sensitive_answers rows {submitted.pk}"):
        call_command("rotate_encryption_keys", stdout=StringIO())
    assert raw(Application, "sensitive_answers", submitted.pk) == before
    # Putting the old key back makes everything readable again: nothing was lost.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Application.objects.get(pk=submitted.pk).sensitive_answers == {"demo-a5": SENSITIVE}


def test_a_malformed_key_is_refused_by_name_without_echoing_it(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, "not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="Key number 2") as error:
        crypto.encrypt("x")
    assert "not-a-key" not in str(error.value)


def test_without_keys_and_outside_the_demo_nothing_is_encrypted(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_DEMO_KEY = False
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt("x")


def test_the_demo_key_is_derived_from_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_DEMO_KEY = True
    key = crypto.demo_key(settings.SECRET_KEY)
    assert crypto.configured_keys() == (key,)
    assert Fernet(key).decrypt(crypto.encrypt("hola").encode()) == b"hola"
    assert crypto.demo_key("another secret key") != key


def _settings_import(**environment):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "FIELD_"))}
    env.update(environment)
    return subprocess.run([sys.executable, "-c", "import fundportal.settings"], env=env, capture_output=True,
                          text=True, cwd=django_settings.BASE_DIR, timeout=120)  # fmt: skip


def test_production_settings_refuse_to_start_without_a_valid_key():
    production = {"DJANGO_DEBUG": "0", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "portal.example.org"}

    missing = _settings_import(**production)
    assert missing.returncode != 0 and "FIELD_ENCRYPTION_KEYS must be set" in missing.stderr

    bad = _settings_import(**production, FIELD_ENCRYPTION_KEYS=f"{NEW_KEY},short")
    assert bad.returncode != 0 and "Key number 2 of FIELD_ENCRYPTION_KEYS" in bad.stderr
    assert "short" not in bad.stderr.splitlines()[-1]

    assert _settings_import(**production, FIELD_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}").returncode == 0


def test_generate_encryption_key_prints_a_new_fernet_key(capsys):
    call_command("generate_encryption_key")
    first = capsys.readouterr().out.strip()
    call_command("generate_encryption_key")
    second = capsys.readouterr().out.strip()
    assert first != second
    Fernet(first)  # a valid key


# --- Rotation ---------------------------------------------------------------------------------


def _rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def test_rotation_moves_every_value_to_the_new_key(submitted, world, admin, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    submitted.sensitive_answers = {"demo-a5": SENSITIVE}
    submitted.save(update_fields=["sensitive_answers"])
    version = submitted.versions.defer("sensitive_answers").get()
    ApplicationVersion.objects.filter(pk=version.pk).update(sensitive_answers={"demo-a5": SENSITIVE})
    save_stripe_secrets(world["foundation"], by=admin, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET)
    secrets_pk = StripeAccountSecrets.objects.get().pk
    old_token = raw(Application, "sensitive_answers", submitted.pk)

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Application.objects.get(pk=submitted.pk).sensitive_answers == {"demo-a5": SENSITIVE}

    dry = _rotate("--dry-run")
    assert "grants.Application.sensitive_answers: 1 to re-encrypt, 0 already under the current key" in dry
    assert raw(Application, "sensitive_answers", submitted.pk) == old_token  # a dry run changes nothing

    report = _rotate("--batch-size", "1")
    assert "grants.Application.sensitive_answers: 1 re-encrypted, 0 already under the current key" in report
    assert "grants.ApplicationVersion.sensitive_answers: 1 re-encrypted" in report
    assert "grants.StripeAccountSecrets.secret_key: 1 re-encrypted" in report
    assert (
        "grants.StripeAccountSecrets.connect_webhook_secret: 0 re-encrypted, 0 already under the current key, 1 empty"
        in report
    )
    new_token = raw(Application, "sensitive_answers", submitted.pk)
    assert new_token != old_token
    assert json.loads(Fernet(NEW_KEY).decrypt(new_token.encode())) == {"demo-a5": SENSITIVE}
    assert (
        Fernet(NEW_KEY).decrypt(raw(StripeAccountSecrets, "secret_key", secrets_pk).encode()).decode()
        == SECRET_KEY
    )

    # Idempotent: a second run finds nothing left to do.
    again = _rotate()
    assert "grants.Application.sensitive_answers: 0 re-encrypted, 1 already under the current key" in again
    assert raw(Application, "sensitive_answers", submitted.pk) == new_token

    # The old key can go: everything is still readable.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert Application.objects.get(pk=submitted.pk).sensitive_answers == {"demo-a5": SENSITIVE}
    assert ApplicationVersion.objects.get(pk=version.pk).sensitive_answers == {"demo-a5": SENSITIVE}
    assert StripeAccountSecrets.objects.get().secret_key == SECRET_KEY


# --- Stripe credentials -----------------------------------------------------------------------


@pytest.fixture
def env_keys(world, monkeypatch, settings):
    """Real-Stripe mode with the foundation's keys in the environment."""
    settings.STRIPE_GATEWAY = "stripe"
    monkeypatch.setenv("STRIPE_SECRET_KEY_BAY_AREA", "sk_test_fromTheEnvironment000000")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_BAY_AREA", "whsec_fromTheEnvironment000000")
    monkeypatch.setenv("STRIPE_CONNECT_WEBHOOK_SECRET_BAY_AREA", "whsec_connectFromTheEnvironment")
    return world


def test_stored_secrets_take_precedence_over_the_environment_value_by_value(env_keys, admin):
    foundation = env_keys["foundation"]
    assert credentials_for(foundation).secret_key == "sk_test_fromTheEnvironment000000"

    save_stripe_secrets(foundation, by=admin, secret_key=SECRET_KEY)
    credentials = credentials_for(foundation)
    assert credentials.secret_key == SECRET_KEY
    assert credentials.webhook_secret == "whsec_fromTheEnvironment000000"  # not stored: environment

    save_stripe_secrets(
        foundation, by=admin, webhook_secret=WEBHOOK_SECRET, publishable_key="pk_test_1234567890ab"
    )
    credentials = credentials_for(foundation)
    assert (credentials.secret_key, credentials.webhook_secret, credentials.publishable_key) == (
        SECRET_KEY, WEBHOOK_SECRET, "pk_test_1234567890ab",
    )  # fmt: skip
    assert credentials.connect_webhook_secret == "whsec_connectFromTheEnvironment"


def test_simulated_mode_ignores_stored_secrets(world, admin):
    save_stripe_secrets(world["foundation"], by=admin, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET)
    assert credentials_for(world["foundation"]) == simulated_credentials(world["foundation"])


def test_missing_keys_say_where_to_set_them(world, settings, monkeypatch):
    settings.STRIPE_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = ""
    for name in ("STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY_BAY_AREA"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ImproperlyConfigured, match=r"Settings → Stripe keys.*STRIPE_SECRET_KEY_BAY_AREA"):
        credentials_for(world["foundation"])


def _signed_event(foundation, secret, event_id="evt_stored_1"):
    payload = json.dumps({"id": event_id, "type": "customer.created", "livemode": False,
                          "created": int(time.time()), "data": {"object": {"id": "cus_1"}}}).encode()  # fmt: skip
    return payload, sign_payload(payload, secret)


def test_webhooks_are_verified_with_the_stored_signing_secret(env_keys, admin, client):
    foundation = env_keys["foundation"]
    save_stripe_secrets(
        foundation, by=admin, webhook_secret=WEBHOOK_SECRET, connect_webhook_secret=CONNECT_SECRET
    )
    url = reverse("stripe_webhook", kwargs={"foundation": foundation.slug})

    payload, signature = _signed_event(foundation, "whsec_fromTheEnvironment000000", "evt_env")
    refused = client.post(url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    assert refused.status_code == 400
    assert not WebhookEvent.objects.filter(event_id="evt_env").exists()

    payload, signature = _signed_event(foundation, WEBHOOK_SECRET)
    accepted = client.post(
        url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert accepted.status_code == 200
    assert WebhookEvent.objects.filter(event_id="evt_stored_1", foundation=foundation).exists()

    connect_url = reverse("stripe_connect_webhook", kwargs={"foundation": foundation.slug})
    payload, signature = _signed_event(foundation, CONNECT_SECRET, "evt_connect")
    response = client.post(connect_url, data=payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=signature)  # fmt: skip
    assert response.status_code == 200


def test_keys_are_checked_before_they_are_stored(world, admin, settings):
    foundation = world["foundation"]
    for bad in ("pk_test_1234567890abcdef", "sk_test_ with space", "whsec_123", ""):
        if not bad:
            continue
        with pytest.raises(ValidationError):
            save_stripe_secrets(foundation, by=admin, secret_key=bad)
    with pytest.raises(ValidationError, match="test mode"):
        save_stripe_secrets(foundation, by=admin, secret_key="sk_live_51AbCdEfGhIjKlMnOpQrSt")
    with pytest.raises(ValidationError, match="whsec_"):
        save_stripe_secrets(foundation, by=admin, webhook_secret="sk_test_51AbCdEfGhIjKlMnOpQrSt")
    assert not StripeAccountSecrets.objects.exists()

    save_stripe_secrets(foundation, by=admin, secret_key="rk_test_51AbCdEfGhIjKlMnOpQrSt")  # restricted key
    settings.STRIPE_LIVEMODE = True
    with pytest.raises(ValidationError, match="live mode"):
        save_stripe_secrets(foundation, by=admin, secret_key=SECRET_KEY)
    save_stripe_secrets(foundation, by=admin, secret_key="sk_live_51AbCdEfGhIjKlMnOpQrSt")
    assert StripeAccountSecrets.objects.get().secret_key == "sk_live_51AbCdEfGhIjKlMnOpQrSt"


def test_saving_keys_leaves_an_activity_entry_without_the_secret(world, admin):
    save_stripe_secrets(world["foundation"], by=admin, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET)
    entry = ActivityEntry.objects.get(action="stripe_keys_changed")
    assert (entry.foundation, entry.actor, entry.subject_type) == (world["foundation"], admin, "foundation")
    assert "…wxyz" in entry.note and "webhook secret" in entry.note
    assert SECRET_KEY not in entry.note and WEBHOOK_SECRET not in entry.note and "Signing" not in entry.note
    # Saving nothing new writes nothing.
    save_stripe_secrets(world["foundation"], by=admin)
    assert ActivityEntry.objects.filter(action="stripe_keys_changed").count() == 1


# --- Admin page -------------------------------------------------------------------------------


def edit_url(foundation):
    return reverse("stripe_keys:edit", args=[foundation.pk])


def test_a_foundation_admin_sets_keys_that_are_never_shown_again(world, admin, client):
    pages.build_site()
    client.force_login(admin)
    foundation = world["foundation"]
    assert client.get(reverse("stripe_keys:index")).url == edit_url(foundation)
    page = client.get(edit_url(foundation))
    assert page.status_code == 200 and "Not set" in page.text

    response = client.post(edit_url(foundation), {
        "secret_key": SECRET_KEY, "publishable_key": "pk_test_1234567890ab",
        "webhook_secret": WEBHOOK_SECRET, "connect_webhook_secret": CONNECT_SECRET,
    }, follow=True)  # fmt: skip

    assert response.status_code == 200
    html = response.text
    assert "Stripe keys of Bay Area Foundation saved." in html
    for secret in (SECRET_KEY, WEBHOOK_SECRET, CONNECT_SECRET):
        assert secret not in html and secret[:-4] not in html
    assert "ending …wxyz" in html and "Rosa Admin" in html and "Set here" in html
    assert "pk_test_1234567890ab" in html  # the publishable key is public
    row = StripeAccountSecrets.objects.get(foundation=foundation)
    assert (row.secret_key, row.connect_webhook_secret, row.updated_by) == (SECRET_KEY, CONNECT_SECRET, admin)

    # An empty secret field keeps the secret in place; a new one replaces it.
    client.post(edit_url(foundation), {"webhook_secret": "whsec_ReplacedSecret0123456789",
                                       "publishable_key": "pk_test_1234567890ab"})  # fmt: skip
    row.refresh_from_db()
    assert (row.secret_key, row.webhook_secret) == (SECRET_KEY, "whsec_ReplacedSecret0123456789")


def test_the_page_says_which_keys_come_from_the_environment_without_showing_them(env_keys, admin, client):
    pages.build_site()
    client.force_login(admin)
    html = client.get(edit_url(env_keys["foundation"])).text
    assert html.count("From the server's environment") == 3  # secret key and both webhook secrets
    assert "fromTheEnvironment" not in html and "connectFromTheEnvironment" not in html
    assert "simulated payment processor" not in html  # real-Stripe mode


def test_invalid_keys_are_refused_with_a_reason_and_not_echoed(world, admin, client):
    pages.build_site()
    client.force_login(admin)
    live_key = "sk_live_51SecretLiveKeyNeverToBeShown00"
    response = client.post(edit_url(world["foundation"]), {"secret_key": live_key,
                                                           "webhook_secret": "whsec_x y"})  # fmt: skip

    assert response.status_code == 400
    html = response.text
    assert "This is a live key, but the portal runs in test mode" in html
    assert "This is not a webhook signing secret" in html
    assert live_key not in html and "whsec_x y" not in html
    assert not StripeAccountSecrets.objects.exists()


def test_the_admin_page_works_when_stored_secrets_cannot_be_decrypted(world, admin, client, settings):
    pages.build_site()
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    save_stripe_secrets(world["foundation"], by=admin, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key was lost
    client.force_login(admin)

    assert "ending …wxyz" in client.get(edit_url(world["foundation"])).text
    client.post(edit_url(world["foundation"]), {"secret_key": "sk_test_51Replacement0000000000"})
    row = StripeAccountSecrets.objects.defer("webhook_secret", "connect_webhook_secret").get()
    assert row.secret_key == "sk_test_51Replacement0000000000"


@pytest.mark.parametrize("role", [Role.FINANCE_OFFICER, Role.AUDITOR, Role.PROGRAM_OFFICER])
def test_other_roles_of_the_foundation_are_refused(world, client, role):
    pages.build_site()
    user = world["auditor"] if role == Role.AUDITOR else staff(world["foundation"], role)
    client.force_login(user)

    for url in (reverse("stripe_keys:index"), edit_url(world["foundation"])):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    response = client.post(edit_url(world["foundation"]), {"secret_key": SECRET_KEY})
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert not StripeAccountSecrets.objects.exists()
    assert "Stripe keys" not in client.get(reverse("wagtailadmin_home")).text


def test_another_foundations_admin_gets_404(world, admin, client):
    pages.build_site()
    valley = FoundationFactory(slug="valley", name="Valley Foundation")
    theirs = staff(valley, Role.FOUNDATION_ADMIN)
    client.force_login(theirs)

    assert client.get(edit_url(world["foundation"]), follow=True).status_code == 404
    posted = client.post(edit_url(world["foundation"]), {"secret_key": SECRET_KEY})
    # A 404 outside the language prefix comes back as LocaleMiddleware's redirect to /en/….
    assert posted.status_code == 404 or posted.url == "/en" + edit_url(world["foundation"])
    assert not StripeAccountSecrets.objects.filter(foundation=world["foundation"]).exists()
    # Their own foundation is theirs to manage, and the menu offers it.
    assert client.get(reverse("stripe_keys:index")).url == edit_url(valley)
    assert "Stripe keys" in client.get(reverse("wagtailadmin_home")).text


def test_a_superuser_chooses_among_all_foundations(world, client, django_user_model):
    pages.build_site()
    FoundationFactory(slug="valley", name="Valley Foundation")
    root = django_user_model.objects.create_superuser(email="root@example.org", password="x")
    client.force_login(root)
    page = client.get(reverse("stripe_keys:index"))
    assert page.status_code == 200
    assert "Bay Area Foundation" in page.text and "Valley Foundation" in page.text


# --- Migration --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_answers_and_back(site, world):
    """0014 on the current database (SQLite, or PostgreSQL's jsonb): back to plain JSON, forward to
    tokens, and the portal reads the same answers."""
    setup = call_setup(site, world)
    application, sections = _draft(setup)
    application_service.submit_application(application, sections=sections, by=setup["applicant"],
                                           actor="applicant")  # fmt: skip
    version_pk = ApplicationVersion.objects.get().pk
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: going back undid cms migrations too
    try:
        executor.migrate([("grants", "0013_exports_and_name_consent")])
        for model, pk in ((Application, application.pk), (ApplicationVersion, version_pk)):
            plain = raw(model, "sensitive_answers", pk)
            plain = plain if isinstance(plain, dict) else json.loads(plain)
            assert plain == {"demo-a5": SENSITIVE}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    for model, pk in ((Application, application.pk), (ApplicationVersion, version_pk)):
        assert raw(model, "sensitive_answers", pk).startswith("gAAAAA")
        assert model.objects.get(pk=pk).sensitive_answers == {"demo-a5": SENSITIVE}


# --- Second factor ----------------------------------------------------------------------------

APP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _code(secret: str) -> str:
    from allauth.mfa import app_settings as mfa_settings

    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def _authenticator_data(authenticator) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator.pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, dict) else json.loads(value)


def test_an_authenticator_app_secret_and_recovery_seed_are_tokens_in_the_database():
    user = UserFactory()
    app = TOTP.activate(user, APP_SECRET)
    codes = RecoveryCodes.activate(user)

    stored_secret = _authenticator_data(app.instance)["secret"]
    stored_seed = _authenticator_data(codes.instance)["seed"]
    assert stored_secret.startswith(crypto.FERNET_TOKEN_START) and APP_SECRET not in stored_secret
    assert stored_seed.startswith(crypto.FERNET_TOKEN_START)
    assert crypto.decrypt(stored_secret) == APP_SECRET
    # Signing in still works: the app's code and a recovery code are accepted.
    assert TOTP(Authenticator.objects.get(pk=app.instance.pk)).validate_code(_code(APP_SECRET))
    recovery = RecoveryCodes(Authenticator.objects.get(pk=codes.instance.pk))
    assert len(recovery.get_unused_codes()) == 10
    assert recovery.validate_code(recovery.get_unused_codes()[0])
    wrong = "000000" if _code(APP_SECRET) != "000000" else "111111"
    assert not TOTP(Authenticator.objects.get(pk=app.instance.pk)).validate_code(wrong)


def test_a_secret_stored_in_the_clear_still_works_and_rotation_encrypts_it():
    user = UserFactory()
    legacy = Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": APP_SECRET}
    )

    report = _rotate()
    assert "mfa.Authenticator secrets: 1 re-encrypted, 0 already under the current key" in report
    stored = _authenticator_data(legacy)["secret"]
    assert stored.startswith(crypto.FERNET_TOKEN_START) and crypto.decrypt(stored) == APP_SECRET
    assert TOTP(Authenticator.objects.get(pk=legacy.pk)).validate_code(_code(APP_SECRET))
    assert "mfa.Authenticator secrets: 0 re-encrypted, 1 already under the current key" in _rotate()


def test_an_authenticator_app_keeps_working_across_a_key_rotation(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    user = UserFactory()
    app = TOTP.activate(user, APP_SECRET)
    RecoveryCodes.activate(user)
    old_token = _authenticator_data(app.instance)["secret"]

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert "mfa.Authenticator secrets: 2 to re-encrypt" in _rotate("--dry-run")
    assert _authenticator_data(app.instance)["secret"] == old_token
    assert "mfa.Authenticator secrets: 2 re-encrypted" in _rotate("--batch-size", "1")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    new_token = _authenticator_data(app.instance)["secret"]
    assert Fernet(NEW_KEY).decrypt(new_token.encode()).decode() == APP_SECRET
    assert TOTP(Authenticator.objects.get(pk=app.instance.pk)).validate_code(_code(APP_SECRET))


def test_an_authenticator_secret_no_key_opens_is_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    app = TOTP.activate(UserFactory(), APP_SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(crypto.DecryptionError, match="second-factor secret"):
        TOTP(Authenticator.objects.get(pk=app.instance.pk)).validate_code(_code(APP_SECRET))
    with pytest.raises(CommandError, match=f"mfa.Authenticator secrets rows {app.instance.pk}"):
        _rotate()
    assert _authenticator_data(app.instance)["secret"].startswith(crypto.FERNET_TOKEN_START)
