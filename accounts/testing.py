"""Test helpers other apps can import: users with a role, and API clients logged in as them.

    from accounts.testing import make_user, api_client_for

    employee = make_user(role="employee")
    client = api_client_for(employee)         # Bearer token of a real session
    client = api_client_for(role="viewer")   # a new Viewer; `client.user` is the user

The root `conftest.py` wraps these as fixtures (`make_user`, `role_client`).
"""

from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import IssuedTokens, session_start

DEFAULT_PASSWORD = "correct horse battery staple 42"


def make_user(*, role: Role | str | None = Role.VIEWER, **fields):
    """A saved, verified user with `role` (None: no role; superuser=True for a superuser)."""
    from accounts.tests.factories import UserFactory

    superuser = fields.pop("superuser", False)
    user = UserFactory(role=role if role is not None else "none", **fields)
    if superuser:
        user.is_superuser = user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
    return user


def login(user) -> IssuedTokens:
    """Open a session for `user` the way the login endpoint does (tokens in hand)."""
    return session_start(user=user, user_agent="pytest", ip="127.0.0.1")


def api_client_for(user=None, *, role: Role | str | None = None, **client_kwargs) -> APIClient:
    """An APIClient sending the Bearer access token of a fresh session of `user`
    (or of a new user with `role`). `client.user` and `client.tokens` are set."""
    if user is None:
        user = make_user(role=role or Role.VIEWER)
    tokens = login(user)
    client = APIClient(**client_kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    client.user = user
    client.tokens = tokens
    return client
