"""The platform administrator adds a foundation in one form: its row, its pages in English and
Spanish, its Stripe keys, its first admin (invited by email in their language). Nothing else may;
a failure anywhere creates nothing."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from wagtail.models import GroupCollectionPermission, GroupPagePermission

from cms.models import FoundationPage
from grants.models import ActivityEntry, Foundation, Role, StaffMembership, StripeAccountSecrets, User
from grants.payments import credentials
from grants.services import foundations as service
from tests.factories import FoundationFactory, UserFactory
from tests.grants.money_fixtures import staff

pytestmark = pytest.mark.django_db

URL = "/admin/add-foundation/"


def form(**changes):
    data = {
        "name": "Central Valley Foundation",
        "slug": "central-valley",
        "legal_name": "Central Valley Community Foundation, Inc.",
        "tax_id": "94-1234567",
        "default_currency": "USD",
        "contact_email": "grants@cvf.example.org",
        "contact_phone": "+1 559 555 0100",
        "intro_en": "We fund defense in the valley.\n\nSince 1990.",
        "intro_es": "Financiamos la defensa en el valle.",
        "stripe_secret_key": "",
        "stripe_publishable_key": "",
        "stripe_webhook_secret": "",
        "stripe_connect_webhook_secret": "",
        "admin_email": "Rosa@CVF.example.org",
        "admin_name": "Rosa Martínez",
        "admin_language": "es",
    }
    data.update(changes)
    return data


@pytest.fixture
def platform_admin():
    return UserFactory(is_superuser=True, is_staff=True, email="platform@example.org")


def nothing_created(before_users):
    return (
        not Foundation.objects.filter(slug="central-valley").exists()
        and not FoundationPage.objects.filter(slug="central-valley").exists()
        and not StripeAccountSecrets.objects.exists()
        and User.objects.count() == before_users
        and not StaffMembership.objects.filter(
            role=Role.FOUNDATION_ADMIN, user__email="rosa@cvf.example.org"
        ).exists()
    )


def test_platform_admin_adds_a_foundation_with_pages_and_an_invited_admin(
    site, client, platform_admin, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAILADMIN_BASE_URL = "https://portal.example.org"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example.com"]
    client.force_login(platform_admin)
    assert client.get(URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, form(), HTTP_HOST="other.example.com")
    assert response.status_code == 302
    foundation = Foundation.objects.get(slug="central-valley")
    assert foundation.tax_id == "94-1234567" and foundation.contact_phone == "+1 559 555 0100"

    pages = {page.locale.language_code: page for page in FoundationPage.objects.filter(foundation=foundation)}
    assert set(pages) == {"en", "es"} and all(page.live for page in pages.values())
    assert "<p>We fund defense in the valley.</p>" in pages["en"].intro
    assert "Financiamos la defensa" in pages["es"].intro

    rosa = User.objects.get(email="rosa@cvf.example.org")
    assert not rosa.has_usable_password() and rosa.preferred_language == "es"
    assert rosa.get_full_name() == "Rosa Martínez"
    assert StaffMembership.objects.filter(
        user=rosa, foundation=foundation, role=Role.FOUNDATION_ADMIN
    ).exists()
    assert EmailAddress.objects.filter(user=rosa, verified=True, primary=True).exists()
    # Its own collection, and Wagtail groups that give its admins its section and nothing else.
    assert foundation.collection is not None and foundation.collection.name == foundation.name
    assert set(
        GroupPagePermission.objects.filter(group__in=rosa.groups.all()).values_list("page_id", flat=True)
    ) == {page.pk for page in pages.values()}
    assert GroupCollectionPermission.objects.filter(
        group__in=rosa.groups.all(), collection=foundation.collection, permission__codename="add_image"
    ).exists()
    assert not StripeAccountSecrets.objects.filter(
        foundation=foundation
    ).exists()  # simulated: no keys needed
    entry = ActivityEntry.objects.get(foundation=foundation, action="created")
    assert entry.actor == platform_admin and "rosa" not in entry.note.lower()

    [invitation] = mail.outbox
    assert invitation.to == ["rosa@cvf.example.org"]
    assert "Central Valley Foundation" in invitation.subject
    body = invitation.body
    links = re.findall(r"https?://\S+", body)
    assert links and all(link.startswith("https://portal.example.org/") for link in links)
    assert "other.example.com" not in body and "other.example.com" not in invitation.alternatives[0][0]
    set_password = next(link for link in links if "/es/accounts/password/reset/key/" in link)
    assert "https://portal.example.org/admin/" in links

    # The link works: Rosa chooses a password and can sign in with it.
    path = set_password.removeprefix("https://portal.example.org")
    page = client.get(path, follow=True)
    assert page.status_code == 200
    client.post(page.redirect_chain[-1][0] if page.redirect_chain else path,
                {"password1": "a long Valley passphrase 42", "password2": "a long Valley passphrase 42"})  # fmt: skip
    rosa.refresh_from_db()
    assert rosa.check_password("a long Valley passphrase 42")


def test_an_existing_user_becomes_admin_in_their_own_language_and_keeps_their_password(
    site, platform_admin, django_capture_on_commit_callbacks
):
    known = UserFactory(email="rosa@cvf.example.org", preferred_language="en")
    known.set_password("her own password 1234")
    known.save()
    with django_capture_on_commit_callbacks(execute=True):
        foundation = service.add_foundation(by=platform_admin, **form())
    known.refresh_from_db()
    assert known.check_password("her own password 1234")
    assert StaffMembership.objects.filter(
        user=known, foundation=foundation, role=Role.FOUNDATION_ADMIN
    ).exists()
    [invitation] = mail.outbox
    assert "administrator of Central Valley Foundation" in invitation.subject  # her language, English
    assert "/password/reset/key/" not in invitation.body
    assert User.objects.filter(email__iexact="rosa@cvf.example.org").count() == 1


def test_invitation_in_english_for_an_english_speaking_admin(
    site, platform_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        service.add_foundation(by=platform_admin, **form(admin_language="en"))
    [invitation] = mail.outbox
    assert "You are the administrator of Central Valley Foundation" in invitation.subject
    assert "/en/accounts/password/reset/key/" in invitation.body


def test_stripe_keys_given_are_stored_for_the_foundation(site, platform_admin):
    foundation = service.add_foundation(
        by=platform_admin,
        **form(stripe_secret_key="sk_test_" + "a" * 24, stripe_webhook_secret="whsec_" + "b" * 24,
               stripe_publishable_key="pk_test_" + "c" * 24),
    )  # fmt: skip
    stored = StripeAccountSecrets.objects.get(foundation=foundation)
    assert stored.secret_key == "sk_test_" + "a" * 24 and stored.publishable_key == "pk_test_" + "c" * 24
    assert credentials.stored_secrets(foundation) is not None  # what the Stripe gateway reads


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"slug": "taken"}, "slug"),
        ({"tax_id": "941234567X"}, "tax_id"),
        ({"admin_email": "not an email"}, "admin_email"),
        ({"contact_email": "nope"}, "contact_email"),
        ({"stripe_secret_key": "sk_live_wrongmode1234567890"}, "stripe_secret_key"),
        ({"stripe_webhook_secret": "not-a-secret"}, "stripe_webhook_secret"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_nothing_is_created(
    site, client, platform_admin, changes, field
):
    FoundationFactory(slug="taken")
    before = User.objects.count()
    client.force_login(platform_admin)
    response = client.post(URL, form(**changes))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'value="Central Valley Foundation"' in response.content.decode()  # what was typed is kept
    assert nothing_created(before) and not mail.outbox


def test_errors_are_translated(site, client, platform_admin):
    client.force_login(platform_admin)
    platform_admin.preferred_language = "es"
    platform_admin.save()
    response = client.post(URL, form(tax_id="12"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Enter an EIN such as 12-3456789." not in response.content.decode()


def test_a_failure_after_the_foundation_is_written_rolls_everything_back(
    site, platform_admin, monkeypatch, django_capture_on_commit_callbacks
):
    before = User.objects.count()

    def broken(*args, **kwargs):
        assert Foundation.objects.filter(slug="central-valley").exists()  # already written
        assert FoundationPage.objects.filter(slug="central-valley").count() == 2
        raise RuntimeError("the groups could not be made")

    monkeypatch.setattr(service, "add_staff", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        service.add_foundation(by=platform_admin, **form(stripe_secret_key="sk_test_" + "a" * 24))
    assert nothing_created(before)
    assert not ActivityEntry.objects.filter(subject_type="foundation").exists()
    assert not mail.outbox


@pytest.mark.parametrize("role", list(Role))
def test_foundation_staff_are_refused_and_nothing_is_created(site, client, role):
    person = staff(FoundationFactory(), role)
    before = User.objects.count()
    client.force_login(person)
    for response in (client.get(URL), client.post(URL, form())):
        assert response.status_code in (302, 403)
        assert response.status_code == 403 or response["Location"] == reverse("wagtailadmin_home")
    assert nothing_created(before) and not mail.outbox
    with pytest.raises(service.PermissionDenied):
        service.add_foundation(by=person, **form())
    assert nothing_created(before)


def test_the_menu_item_is_for_the_platform_administrator_only(site, client, platform_admin):
    client.force_login(staff(FoundationFactory(), Role.FOUNDATION_ADMIN))
    assert URL not in client.get("/admin/").content.decode()
    client.force_login(platform_admin)
    assert URL in client.get("/admin/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_foundations_listing_adds_through_the_one_form(site, client, platform_admin):
    """No bare foundation row: the listing's "Add" leads to the form that creates everything."""
    client.force_login(platform_admin)
    before = Foundation.objects.count()
    for response in (
        client.get("/admin/foundations/new/"),
        client.post("/admin/foundations/new/", {"name": "Bare"}),
    ):
        assert response.status_code == 302 and response["Location"] == URL
    assert Foundation.objects.count() == before
    client.force_login(staff(FoundationFactory(), Role.FOUNDATION_ADMIN))
    response = client.get("/admin/foundations/new/")
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
