"""Browser mode: token cookies (parsed from Set-Cookie) and CSRF on unsafe methods."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuthSession
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ME = reverse("users-me")


def parse_set_cookies(response) -> dict[str, dict]:
    """Each Set-Cookie header as {name: {"value", attribute (lower case): value or True}}."""
    cookies = {}
    for line in response.cookies.output(header="").splitlines():
        name_value, *attributes = [part.strip() for part in line.strip().split(";")]
        name, _, value = name_value.partition("=")
        parsed = {"value": value}
        for attribute in attributes:
            key, sep, attr_value = attribute.partition("=")
            parsed[key.lower()] = attr_value if sep else True
        cookies[name] = parsed
    return cookies


def csrf_client() -> tuple[APIClient, str]:
    client = APIClient(enforce_csrf_checks=True)
    response = client.get(reverse("auth-csrf"))
    assert response.status_code == 200
    token = response.json()["csrf_token"]
    assert "csrftoken" in response.cookies
    return client, token


def browser_login(client, csrf, email):
    return client.post(
        reverse("auth-login"),
        {"email": email, "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )


@pytest.mark.parametrize(
    ("secure", "prefix"), [(True, "__Host-"), (False, "")], ids=["secure", "plain-http-dev"]
)
def test_login_sets_token_cookies(settings, user, secure, prefix):
    settings.AUTH_COOKIE_SECURE = secure
    client, csrf = csrf_client()

    response = browser_login(client, csrf, user.email)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "access_expires_at", "refresh_expires_at"}
    cookies = parse_set_cookies(response)
    assert set(cookies) == {f"{prefix}lb_access", f"{prefix}lb_refresh"}
    for name, cookie in cookies.items():
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name
        assert cookie["path"] == "/", name
        assert "domain" not in cookie, name
        assert cookie.get("secure", False) is secure, name
        assert len(cookie["value"]) == 43, name
    assert cookies[f"{prefix}lb_access"]["max-age"] == "900"
    assert cookies[f"{prefix}lb_refresh"]["max-age"] == str(14 * 24 * 3600)


def test_csrf_is_required_for_cookie_login(user):
    client, csrf = csrf_client()

    missing = client.post(
        reverse("auth-login"), {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert missing.status_code == 403
    assert missing.json()["detail"].startswith("CSRF Failed")
    assert not AuthSession.objects.exists()
    assert browser_login(client, csrf, user.email).status_code == 200


def test_app_login_needs_no_csrf(user):
    client = APIClient(enforce_csrf_checks=True)

    response = client.post(
        reverse("auth-login"),
        {"email": user.email, "password": DEFAULT_PASSWORD, "client": "app"},
        format="json",
    )

    assert response.status_code == 200


def test_cookie_auth_enforces_csrf_on_unsafe_methods_only(user):
    client, csrf = csrf_client()
    browser_login(client, csrf, user.email)

    assert client.get(ME).status_code == 200  # safe method: no token needed
    denied = client.patch(ME, {"name": "Mallory"}, format="json")
    allowed = client.patch(ME, {"name": "Erin E."}, format="json", HTTP_X_CSRFTOKEN=csrf)

    assert denied.status_code == 403
    assert denied.json()["detail"].startswith("CSRF Failed")
    assert allowed.status_code == 200
    user.refresh_from_db()
    assert user.name == "Erin E."


def test_bearer_needs_no_csrf(user):
    login = APIClient().post(
        reverse("auth-login"),
        {"email": user.email, "password": DEFAULT_PASSWORD, "client": "app"},
        format="json",
    )
    client = APIClient(enforce_csrf_checks=True)

    response = client.patch(
        ME,
        {"name": "Erin B."},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {login.json()['access_token']}",
    )

    assert response.status_code == 200


def test_cookie_refresh_needs_csrf_and_rotates_cookies(user):
    client, csrf = csrf_client()
    first = parse_set_cookies(browser_login(client, csrf, user.email))

    denied = client.post(reverse("auth-refresh"))
    response = client.post(reverse("auth-refresh"), HTTP_X_CSRFTOKEN=csrf)

    assert denied.status_code == 403
    assert response.status_code == 200
    assert set(response.json()) == {"user", "access_expires_at", "refresh_expires_at"}
    second = parse_set_cookies(response)
    assert second["lb_access"]["value"] != first["lb_access"]["value"]
    assert second["lb_refresh"]["value"] != first["lb_refresh"]["value"]
    assert client.get(ME).status_code == 200


def test_cookie_logout_clears_the_cookies(user):
    client, csrf = csrf_client()
    browser_login(client, csrf, user.email)

    response = client.post(reverse("auth-logout"), HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 204
    cleared = parse_set_cookies(response)
    assert {name: cookie["max-age"] for name, cookie in cleared.items()} == {
        "lb_access": "0",
        "lb_refresh": "0",
    }
    assert client.get(ME).status_code == 401
