"""The token flow through the API: login, calls, expiry, refresh rotation, reuse, logout."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthSession, RefreshToken, SessionEndReason
from accounts.tests.factories import DEFAULT_PASSWORD
from tests.support.auth import api_client_for, app_login, bearer

pytestmark = pytest.mark.django_db

ME = reverse("users-me")
REFRESH = reverse("auth-refresh")
INVALID_ACCESS = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The access token is invalid or has expired.",
    "errors": {},
}
INVALID_REFRESH = {**INVALID_ACCESS, "detail": "The refresh token is invalid or has expired."}


def refresh(client, token):
    return client.post(REFRESH, {"refresh_token": token}, format="json")


def test_app_login_returns_tokens_in_the_body(anon, user):
    response = app_login(anon, "ERIN@example.com", HTTP_USER_AGENT="ledger-app/1.0")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in", "user",
    }  # fmt: skip
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 14 * 24 * 3600
    assert body["user"]["id"] == str(user.pk)
    assert body["user"]["role"] == "employee"
    assert response.cookies == {}
    assert response["Cache-Control"] == "no-store"
    session = AuthSession.objects.get(user=user)
    assert session.user_agent == "ledger-app/1.0"
    assert session.ip == "127.0.0.1"
    assert session.expires_at - session.created_at == timedelta(days=30)
    user.refresh_from_db()
    assert user.last_login is not None


def test_wrong_password_and_unknown_email_get_the_same_401(anon, user):
    wrong = app_login(anon, user.email, "not the password")
    unknown = app_login(anon, "nobody@example.com", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": "The email address or password is incorrect.",
            "errors": {},
        }
    )
    assert wrong["WWW-Authenticate"] == unknown["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not AuthSession.objects.exists()


def test_inactive_user_cannot_log_in(anon, user):
    user.is_active = False
    user.save()

    assert app_login(anon, user.email).status_code == 401


def test_bearer_token_authenticates_with_one_query(anon, user, django_assert_num_queries):
    token = app_login(anon, user.email).json()["access_token"]

    with django_assert_num_queries(1):  # loading the user; the role comes with the token
        response = anon.get(ME, **bearer(token))

    assert response.status_code == 200
    assert response.json()["email"] == user.email


@pytest.mark.parametrize(
    "header",
    ["Bearer unknown-token", "Bearer", "Bearer a b", "bearer " + "x" * 300, "Bearer \x00"],
)
def test_bad_bearer_tokens_are_401_with_challenge(anon, header):
    response = anon.get(ME, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["status"] == 401


def test_access_token_expires_after_15_minutes(anon, user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token = app_login(anon, user.email).json()["access_token"]
        traveller.shift(timedelta(minutes=14, seconds=59))
        assert anon.get(ME, **bearer(token)).status_code == 200
        traveller.shift(timedelta(seconds=1))
        response = anon.get(ME, **bearer(token))

    assert response.status_code == 401
    assert response.json() == INVALID_ACCESS


def test_refresh_rotates_both_tokens(anon, user):
    first = app_login(anon, user.email).json()

    second = refresh(anon, first["refresh_token"])

    assert second.status_code == 200
    body = second.json()
    assert body["access_token"] != first["access_token"]
    assert body["refresh_token"] != first["refresh_token"]
    assert anon.get(ME, **bearer(body["access_token"])).status_code == 200
    assert anon.get(ME, **bearer(first["access_token"])).status_code == 401  # replaced
    assert RefreshToken.objects.filter(used_at__isnull=True).count() == 1
    third = refresh(anon, body["refresh_token"])
    assert third.status_code == 200


def test_reused_refresh_token_revokes_the_whole_session(anon, user):
    first = app_login(anon, user.email).json()
    second = refresh(anon, first["refresh_token"]).json()

    replay = refresh(anon, first["refresh_token"])

    assert replay.status_code == 401
    assert replay.json() == INVALID_REFRESH
    session = AuthSession.objects.get()
    assert session.revoked_reason == SessionEndReason.REUSE
    assert refresh(anon, second["refresh_token"]).status_code == 401  # descendant dead too
    assert anon.get(ME, **bearer(second["access_token"])).status_code == 401


def test_refresh_token_idle_and_absolute_lifetimes(anon, user, settings):
    settings.REFRESH_TOKEN_IDLE_TTL = 3600
    settings.REFRESH_TOKEN_ABSOLUTE_TTL = 3 * 3600
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        tokens = app_login(anon, user.email).json()
        assert tokens["refresh_expires_in"] == 3600
        for _ in range(2):  # used within the idle time: kept alive
            traveller.shift(timedelta(minutes=59))
            tokens = refresh(anon, tokens["refresh_token"]).json()
        traveller.shift(timedelta(minutes=59))  # 2h57m: capped by the absolute lifetime
        tokens = refresh(anon, tokens["refresh_token"]).json()
        assert tokens["refresh_expires_in"] == 3 * 60
        traveller.shift(timedelta(minutes=3))
        assert refresh(anon, tokens["refresh_token"]).status_code == 401

        idle = app_login(anon, user.email).json()
        traveller.shift(timedelta(hours=1))
        assert refresh(anon, idle["refresh_token"]).status_code == 401


def test_logout_ends_the_session(anon, user):
    tokens = app_login(anon, user.email).json()

    response = anon.post(reverse("auth-logout"), **bearer(tokens["access_token"]))

    assert response.status_code == 204
    assert anon.get(ME, **bearer(tokens["access_token"])).status_code == 401
    assert refresh(anon, tokens["refresh_token"]).status_code == 401
    assert AuthSession.objects.get().revoked_reason == SessionEndReason.LOGOUT


def test_logout_all_ends_every_session(anon, user):
    one = app_login(anon, user.email).json()
    two = app_login(anon, user.email).json()
    other_user = api_client_for(role="viewer")

    response = anon.post(reverse("auth-logout-all"), **bearer(one["access_token"]))

    assert response.status_code == 204
    for tokens in (one, two):
        assert anon.get(ME, **bearer(tokens["access_token"])).status_code == 401
        assert refresh(anon, tokens["refresh_token"]).status_code == 401
    assert other_user.get(ME).status_code == 200


def test_password_change_ends_other_sessions_only(anon, user):
    current = app_login(anon, user.email).json()
    other = app_login(anon, user.email).json()

    response = anon.post(
        reverse("auth-password-change"),
        {"old_password": DEFAULT_PASSWORD, "new_password": "a new long passphrase 7"},
        format="json",
        **bearer(current["access_token"]),
    )

    assert response.status_code == 204
    assert anon.get(ME, **bearer(current["access_token"])).status_code == 200
    assert anon.get(ME, **bearer(other["access_token"])).status_code == 401
    assert refresh(anon, other["refresh_token"]).status_code == 401
    assert app_login(anon, user.email, "a new long passphrase 7").status_code == 200


def test_password_change_checks_old_and_new_password(anon, user):
    client = api_client_for(user)
    url = reverse("auth-password-change")

    wrong_old = client.post(url, {"old_password": "nope", "new_password": "x9"}, format="json")
    weak_new = client.post(
        url, {"old_password": DEFAULT_PASSWORD, "new_password": "123"}, format="json"
    )

    assert wrong_old.status_code == 400
    assert wrong_old.json()["errors"] == {"old_password": ["The password is incorrect."]}
    assert weak_new.status_code == 400
    assert set(weak_new.json()["errors"]) == {"new_password"}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_deactivation_ends_sessions_at_once(anon, user):
    tokens = app_login(anon, user.email).json()
    admin = api_client_for(role="administrator")

    assert admin.delete(reverse("users-detail", args=[user.pk])).status_code == 204

    assert anon.get(ME, **bearer(tokens["access_token"])).status_code == 401
    assert refresh(anon, tokens["refresh_token"]).status_code == 401
    assert AuthSession.objects.get(user=user).revoked_reason == SessionEndReason.DEACTIVATED


def test_role_change_ends_sessions_at_once(anon, user):
    tokens = app_login(anon, user.email).json()
    admin = api_client_for(role="administrator")

    response = admin.patch(
        reverse("users-detail", args=[user.pk]), {"role": "viewer"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    assert anon.get(ME, **bearer(tokens["access_token"])).status_code == 401
    assert refresh(anon, tokens["refresh_token"]).status_code == 401


def test_sessions_list_and_delete(anon, user):
    current = app_login(anon, user.email, HTTP_USER_AGENT="phone").json()
    other = app_login(anon, user.email, HTTP_USER_AGENT="laptop").json()
    stranger = api_client_for(role="viewer")
    client = APIClient()
    client.credentials(**bearer(current["access_token"]))

    listed = client.get(reverse("auth-sessions-list"))

    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [(row["user_agent"], row["current"]) for row in rows] == [
        ("laptop", False),
        ("phone", True),
    ]
    assert set(rows[0]) == {
        "id", "created_at", "last_seen_at", "user_agent", "ip", "expires_at", "current",
    }  # fmt: skip
    laptop = rows[0]["id"]
    stranger_session = str(stranger.tokens.session.pk)
    assert (
        client.delete(reverse("auth-sessions-detail", args=[stranger_session])).status_code == 404
    )
    assert client.delete(reverse("auth-sessions-detail", args=[laptop])).status_code == 204
    assert anon.get(ME, **bearer(other["access_token"])).status_code == 401
    assert [
        row["user_agent"] for row in client.get(reverse("auth-sessions-list")).json()["results"]
    ] == ["phone"]
    assert stranger.get(ME).status_code == 200
