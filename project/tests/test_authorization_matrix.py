"""The one authorization matrix: every endpoint x method x role -> status.

`MATRIX` rows are `(endpoint_name, method, url, payload_builder, statuses)`:
- `url`: a path, or `lambda ctx: ...` when it names an object (see `Context`);
- `payload_builder`: None or `lambda ctx: {...}` (sent as JSON);
- `statuses`: {"anonymous": 401, "viewer": ..., "employee": ..., "administrator": ...}.

One parametrized test walks every row for every role. Callers authenticate with a
Bearer token of a real session. A denied write (any 4xx on an unsafe method) must
leave every row of the project's apps exactly as it was (compared by snapshot).

To add an app's endpoints: write a `setup` function that creates the objects your rows
need and stores them in `ctx.objects`, append it to `SETUPS`, and add your rows in your
app's section of `MATRIX` below.
"""

from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.urls import reverse

from accounts.services import IssuedTokens
from accounts.testing import DEFAULT_PASSWORD, api_client_for, login, make_user

ROLES = ("anonymous", "viewer", "employee", "administrator")
SNAPSHOT_APPS = ("accounts", "records", "integrations")


@dataclass
class Context:
    """What rows can refer to. `caller` is None for anonymous."""

    role: str
    caller: object | None = None
    caller_tokens: IssuedTokens | None = None
    other: object | None = None  # a colleague (Employee) with an open session
    other_tokens: IssuedTokens | None = None
    objects: dict = field(default_factory=dict)  # filled by each app's setup


def accounts_setup(ctx: Context) -> None:
    ctx.other = make_user(role="employee", email="colleague@example.com")
    ctx.other_tokens = login(ctx.other)


SETUPS = [
    accounts_setup,
    # records: append records_setup here
    # integrations: append integrations_setup here
]


def everyone(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int, anonymous: int = 401) -> dict:
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], status)}


def admin_only(status: int) -> dict:
    return {"anonymous": 401, "viewer": 403, "employee": 403, "administrator": status}


def _own_session(ctx):
    tokens = ctx.caller_tokens or ctx.other_tokens
    return reverse("auth-sessions-detail", args=[tokens.session.pk])


def _other(ctx):
    return reverse("users-detail", args=[ctx.other.pk])


NEW_PASSWORD = "matrix passphrase 2026"

MATRIX = [
    # --- accounts: auth ----------------------------------------------------------------
    ("auth-csrf", "get", reverse("auth-csrf"), None, everyone(200)),
    (
        "auth-login",
        "post",
        reverse("auth-login"),
        lambda ctx: {"email": ctx.other.email, "password": DEFAULT_PASSWORD, "client": "app"},
        everyone(200),
    ),
    (
        "auth-refresh",
        "post",
        reverse("auth-refresh"),
        lambda ctx: {"refresh_token": ctx.other_tokens.refresh_token},
        everyone(200),
    ),
    ("auth-logout", "post", reverse("auth-logout"), None, signed_in(204)),
    ("auth-logout-all", "post", reverse("auth-logout-all"), None, signed_in(204)),
    ("auth-sessions-list", "get", reverse("auth-sessions-list"), None, signed_in(200)),
    ("auth-sessions-detail", "delete", _own_session, None, signed_in(204)),
    (
        "auth-sessions-detail",  # someone else's session is not there for you
        "delete",
        lambda ctx: reverse("auth-sessions-detail", args=[ctx.other_tokens.session.pk]),
        None,
        signed_in(404),
    ),
    (
        "auth-password-change",
        "post",
        reverse("auth-password-change"),
        lambda ctx: {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        signed_in(204),
    ),
    (
        "auth-password-reset",
        "post",
        reverse("auth-password-reset"),
        lambda ctx: {"email": ctx.other.email},
        everyone(202),
    ),
    (
        "auth-password-reset-confirm",
        "post",
        reverse("auth-password-reset-confirm"),
        lambda ctx: {"uid": "bad", "token": "bad", "new_password": NEW_PASSWORD},
        everyone(400),
    ),
    (
        "auth-verify-email",
        "post",
        reverse("auth-verify-email"),
        lambda ctx: {"token": "bad"},
        everyone(400),
    ),
    ("auth-verify-email-resend", "post", reverse("auth-verify-email-resend"), None, signed_in(202)),
    # --- accounts: users ---------------------------------------------------------------
    ("users-list", "get", reverse("users-list"), None, signed_in(200)),
    (
        "users-list",
        "post",
        reverse("users-list"),
        lambda ctx: {"email": "matrix-new@example.com", "role": "viewer", "password": NEW_PASSWORD},
        admin_only(201),
    ),
    ("users-detail", "get", _other, None, signed_in(200)),
    ("users-detail", "patch", _other, lambda ctx: {"name": "Changed"}, admin_only(200)),
    ("users-detail", "patch", _other, lambda ctx: {"role": "administrator"}, admin_only(200)),
    ("users-detail", "put", _other, lambda ctx: {"name": "Changed"}, admin_only(405)),
    ("users-detail", "delete", _other, None, admin_only(204)),
    ("users-me", "get", reverse("users-me"), None, signed_in(200)),
    ("users-me", "patch", reverse("users-me"), lambda ctx: {"name": "Me"}, signed_in(200)),
    (
        "users-me",
        "patch",
        reverse("users-me"),
        lambda ctx: {"role": "administrator"},
        signed_in(400),
    ),
    # --- records: add rows here ----------------------------------------------------------
    # --- integrations: add rows here -----------------------------------------------------
]


def snapshot() -> dict:
    """Every row of every model (and many-to-many table) of the project's apps."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in SNAPSHOT_APPS:
            rows[model._meta.label] = sorted(
                model.objects.order_by().values_list(), key=lambda row: str(row[0])
            )
    return rows


CASES = [
    pytest.param(method, url, payload, role, statuses[role], id=f"{name}-{method}-{index}-{role}")
    for index, (name, method, url, payload, statuses) in enumerate(MATRIX)
    for role in ROLES
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "payload", "role", "expected"), CASES)
def test_authorization_matrix(method, url, payload, role, expected):
    from rest_framework.test import APIClient

    ctx = Context(role=role)
    for setup in SETUPS:
        setup(ctx)
    if role == "anonymous":
        client = APIClient()
    else:
        client = api_client_for(make_user(role=role, email=f"{role}@example.com"))
        ctx.caller, ctx.caller_tokens = client.user, client.tokens
    path = url(ctx) if callable(url) else url
    body = payload(ctx) if payload else None
    before = snapshot()

    response = getattr(client, method)(path, body, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["status"] == expected
    if method != "get" and expected >= 400:
        assert snapshot() == before, "a denied write changed data"
