"""Every API error comes in the one documented shape."""

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient

from tests.support.auth import api_client_for

pytestmark = [pytest.mark.urls("project.tests.urls_errors"), pytest.mark.django_db]


@pytest.fixture
def client():
    return APIClient(raise_request_exception=False)


def test_validation_error_names_each_field(client):
    response = client.post(
        "/api/v1/test/echo/", {"amount": "-1.005", "email": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request has invalid fields.",
        "errors": {
            "amount": ["Ensure that there are no more than 2 decimal places."],
            "email": ["Enter a valid email address."],
        },
    }


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/test/echo/", data="{not json", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert body["detail"].startswith("JSON parse error")
    assert body["errors"] == {}


def test_anonymous_gets_401_with_challenge(client):
    response = client.get("/api/v1/test/private/")

    assert response.status_code == 401
    assert "WWW-Authenticate" in response
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Authentication credentials were not provided.",
        "errors": {},
    }


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/does-not-exist/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not found.",
        "errors": {},
    }


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/v1/test/echo/")

    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.json() == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": 'Method "DELETE" not allowed.',
        "errors": {},
    }


def test_domain_conflict_is_409_with_its_facts_beside_detail(client):
    response = client.post("/api/v1/test/domain/", {"kind": "conflict"}, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "It is busy.",
        "errors": {},
        "run_id": "r-1",  # a fact named like a standard member ("status") is dropped
    }


def test_domain_conflict_without_a_message_uses_the_default(client):
    response = client.post("/api/v1/test/domain/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "The record's state does not allow this."


def test_stale_version_is_412(client):
    response = client.post("/api/v1/test/domain/", {"kind": "stale"}, format="json")

    assert response.status_code == 412
    assert response.json() == {
        "type": "about:blank",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "The record has changed since you read it (If-Match). Read it again.",
        "errors": {},
    }


def test_crash_is_json_500_without_traceback(client, settings):
    settings.DEBUG = False

    response = client.get("/api/v1/test/crash/")

    assert response.status_code == 500
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An unexpected error occurred. It has been logged.",
        "errors": {},
    }
    assert b"secret internal detail" not in response.content
    assert b"Traceback" not in response.content


def test_non_api_404_stays_html(client):
    response = client.get("/nowhere/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
def test_api_datetimes_are_utc(settings):
    """DESIGN.md: datetimes in UTC, whatever the business's TIME_ZONE."""
    from tests.support.auth import api_client_for

    settings.TIME_ZONE = "Europe/Amsterdam"
    client = api_client_for(role="viewer")

    body = client.get("/api/v1/users/me/").json()

    assert body["created_at"].endswith("Z"), body["created_at"]


@pytest.mark.django_db
def test_unreachable_redis_is_a_503_in_the_error_shape_not_a_500(settings):
    """The token store down: the caller is told to come back (503, Retry-After)."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    client = APIClient(raise_request_exception=False)

    try:
        response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION="Bearer " + "x" * 43)
    finally:
        caches["default"].close()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "A service Ledgerbridge depends on is unavailable; try again shortly.",
        "errors": {},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("terminating connection due to administrator command"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_dropped_database_connection_is_a_503_with_retry_after(monkeypatch, error):
    """The database connection dropped mid-request (the soak's `pg_terminate_backend`):
    come back later, not a 500. The view's read is where the connection failed."""
    from records import selectors

    client = api_client_for(role="viewer")

    def dropped(**kwargs):
        raise error

    monkeypatch.setattr(selectors, "contact_list", dropped)
    client.raise_request_exception = False

    response = client.get("/api/v1/contacts/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["detail"] == (
        "A service Ledgerbridge depends on is unavailable; try again shortly."
    )
