"""Paths outside the language prefixes that are not pages answer a plain 404, never /en/… redirects.

Wagtail's catch-all page route makes every /en/… path valid, so Django's LocaleMiddleware used to
turn any 404 outside the prefixes into a redirect: a webhook for an unknown foundation got 302.
"""

import pytest

from grants.models import Role, WebhookEvent
from grants.services.staff import add_staff
from tests.factories import FoundationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _plain_not_found(response):
    assert response.status_code == 404, (response.status_code, response.get("Location"))
    assert "Location" not in response


@pytest.mark.parametrize("suffix", ["", "connect/"])
def test_webhook_for_an_unknown_foundation_is_a_plain_404(client, site, suffix):
    FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    response = client.post(
        f"/stripe/webhooks/no-such-foundation/{suffix}", b"{}", content_type="application/json"
    )
    _plain_not_found(response)
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"not found"  # the same few bytes for every unknown slug
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("suffix", ["", "connect/"])
def test_get_on_a_webhook_is_405_for_known_and_unknown_foundations_alike(client, suffix):
    FoundationFactory(slug="bay-area")
    for slug in ("bay-area", "no-such-foundation"):
        response = client.get(f"/stripe/webhooks/{slug}/{suffix}")
        assert response.status_code == 405 and "Location" not in response


@pytest.mark.parametrize("suffix", ["", "connect/"])
def test_webhook_for_a_known_foundation_still_refuses_a_bad_signature(client, suffix):
    FoundationFactory(slug="bay-area")
    response = client.post(
        f"/stripe/webhooks/bay-area/{suffix}", b"{}", content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=forged",
    )  # fmt: skip
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/stripe/webhooks/bay-area/extra/segments/",
        "/stripe/nothing/",
        "/simulated-stripe/nothing/",
        "/simulated-stripe/onboarding/acct_unknown/",
        "/documents/999999/missing.pdf",
    ],
)
def test_other_unprefixed_paths_are_plain_404s(client, site, path):
    FoundationFactory(slug="bay-area")
    _plain_not_found(client.get(path))
    _plain_not_found(client.post(path))


def test_a_missing_admin_url_is_404_for_signed_in_staff(client, site):
    foundation = FoundationFactory()
    staff = UserFactory(is_staff=True)
    add_staff(staff, foundation=foundation, role=Role.PROGRAM_OFFICER)
    client.force_login(staff)
    _plain_not_found(client.get("/admin/applications/inspect/999999/"))


def test_a_public_page_without_its_prefix_still_goes_to_the_language_version(client, site):
    response = client.get("/funds/")
    assert response.status_code == 302 and response["Location"].endswith("/funds/")
    assert response["Location"].startswith(("/en/", "/es/"))
