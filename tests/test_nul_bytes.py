"""A NUL character in a path, query string or form field is a translated 400 that writes nothing."""

import pytest
from django.urls import reverse

from tests.fuzz.conftest import assert_no_writes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/en/organizations/invites/a%00b/", "/en/donate/thanks/?session_id=%00", "/en/?q=a%00"],
)
def test_nul_in_the_address_is_a_bad_request(client, path):
    with assert_no_writes():
        response = client.get(path)
    assert response.status_code == 400
    assert b"This request could not be read" in response.content


def test_nul_in_a_form_field_is_a_bad_request_in_spanish(client):
    with assert_no_writes():
        response = client.post("/es/accounts/login/", {"login": "ana\x00@example.org", "password": "x"})
    assert response.status_code == 400
    assert "No se pudo leer esta solicitud" in response.content.decode()


def test_text_without_nul_passes_and_json_bodies_are_not_read(client):
    assert client.get("/en/?q=ordinary").status_code == 200
    # A Stripe webhook body is JSON, not form fields: its own verification answers it.
    response = client.post(
        reverse("stripe_webhook", kwargs={"foundation": "nobody"}),
        data='{"id": "evt_\\u0000"}',
        content_type="application/json",
    )
    assert response.status_code in (302, 404), "not refused as a bad request: the webhook view decides"


@pytest.mark.parametrize("url_name", ["stripe_webhook", "stripe_connect_webhook"])
def test_a_webhook_posted_as_a_form_is_answered_by_its_signature_check(client, foundation, url_name):
    """The webhook verifies a signature over the exact body bytes: no middleware may parse that body
    as a form first (it did, and reading the body then failed with a 500)."""
    with assert_no_writes():
        response = client.post(
            reverse(url_name, kwargs={"foundation": foundation.slug}),
            {"id": "evt_1", "note": "a\x00b"},  # multipart form data, NUL and all
        )
    assert response.status_code == 400
    assert response.content == b"invalid signature or payload"
