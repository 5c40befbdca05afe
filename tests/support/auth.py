"""Signing in for tests: a real session's tokens, API clients that send them, and the
app-mode login over the real endpoint.

    tokens = login(user)                     # IssuedTokens of a new session
    client = api_client_for(user)            # Bearer token of a real session
    client = api_client_for(role="viewer")   # a new Viewer; `client.user` is the user
"""

from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import IssuedTokens, session_start
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory


def login(user) -> IssuedTokens:
    """Open a session for `user` the way the login endpoint does (tokens in hand)."""
    return session_start(user=user, user_agent="pytest", ip="127.0.0.1")


def api_client_for(user=None, *, role: Role | str | None = None, **client_kwargs) -> APIClient:
    """An APIClient sending the Bearer access token of a fresh session of `user`
    (or of a new user with `role`). `client.user` and `client.tokens` are set."""
    if user is None:
        user = UserFactory(role=role or Role.VIEWER)
    tokens = login(user)
    client = APIClient(**client_kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    client.user = user
    client.tokens = tokens
    return client


def app_login(client, email, password=DEFAULT_PASSWORD, **extra):
    """POST the app-mode login; returns the response."""
    body = {"email": email, "password": password, "client": "app"}
    return client.post(reverse("auth-login"), body, format="json", **extra)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
