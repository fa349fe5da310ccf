"""``/healthz``: what a load balancer asks each web node."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_a_healthy_node_answers_200_and_names_its_checks(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers and not response.cookies


@override_settings(ALLOWED_HOSTS=["portal.example.org"], SECURE_SSL_REDIRECT=True)
def test_the_balancer_asks_by_address_over_plain_http(client):
    response = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    # Every other path still checks the host.
    assert client.get("/en/", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_no_database_means_out_of_rotation(client):
    with mock.patch("grants.middleware_health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "error", "cache": "ok"}


def test_no_shared_cache_means_out_of_rotation(client):
    with mock.patch("grants.middleware_health.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"] == "error"


def test_only_reads(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
