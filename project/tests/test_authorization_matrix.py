"""The one authorization matrix: every endpoint x method x role -> status.

`MATRIX` rows are `(endpoint_name, method, url, payload_builder, statuses)`:
- `url`: a path, or `lambda ctx: ...` when it names an object (see `Context`);
- `payload_builder`: None or `lambda ctx: {...}` (sent as JSON);
- `statuses`: {"anonymous": 401, "viewer": ..., "employee": ..., "administrator": ...}.

One parametrized test walks every row for every role through Django's test client, and
a second calls each endpoint once against a real server over HTTP (a threaded live
server): the first row of each endpoint name, as the least privileged role it lets in
(`HTTP_CASES`), so every view is also served through real sockets and headers.
Callers authenticate with a Bearer token of a real session. A denied write (any 4xx on
an unsafe method) must leave every row of the project's apps exactly as it was (compared
by snapshot).

To add an app's endpoints: write a `setup` function that creates the objects your rows
need and stores them in `ctx.objects`, append it to `SETUPS`, and add your rows in your
app's section of `MATRIX` below.
"""

import json
from dataclasses import dataclass, field

import httpx
import pytest
from django.apps import apps
from django.urls import reverse

from accounts.services import IssuedTokens
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from records.tests.factories import ContactFactory, InvoiceFactory, ProductFactory, TaxRateFactory
from tests.support.auth import login

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
    ctx.other = UserFactory(role="employee", email="colleague@example.com")
    ctx.other_tokens = login(ctx.other)


def superuser_setup(ctx: Context) -> None:
    """A superuser with an open session: the target of "acting on a superuser" rows."""
    superuser = UserFactory(role="administrator", superuser=True, email="root@example.com")
    ctx.objects.update(superuser=superuser, superuser_tokens=login(superuser))


def integrations_setup(ctx: Context) -> None:
    """A connection to Moneybird, and one whose URL the policy refuses when it is tested
    (so `test` answers without leaving the machine)."""
    from django.test import override_settings

    from integrations.services import connection_create

    ctx.objects["connection"] = connection_create(
        name="Moneybird", administration_id="100001", api_token="matrix-token"
    )
    with override_settings(INTEGRATIONS_ALLOW_LOCAL_URLS=True):
        ctx.objects["offline_connection"] = connection_create(
            name="Offline", base_url="http://127.0.0.1:9/api/v2", administration_id="100002",
            api_token="matrix-token",
        )  # fmt: skip
    from integrations.services import sync_run_create

    # A queued sync run (never dispatched) of the offline connection: triggering that one
    # again answers 409.
    ctx.objects["sync_run"] = sync_run_create(connection=ctx.objects["offline_connection"])


def records_setup(ctx: Context) -> None:
    """A contact (no invoices), a product, an unused tax rate, a draft and an open invoice."""
    customer = ContactFactory(company_name="Invoiced B.V.")
    ctx.objects.update(
        contact=ContactFactory(company_name="Matrix B.V."),
        product=ProductFactory(sku="MATRIX-1"),
        tax_rate=TaxRateFactory(percentage=21),
        unused_tax_rate=TaxRateFactory(percentage=5),
        customer=customer,
        draft=InvoiceFactory(contact=customer),
        open_invoice=InvoiceFactory(contact=customer, finalize=True),
    )


SETUPS = [
    accounts_setup,
    superuser_setup,
    records_setup,
    integrations_setup,
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


def _superuser(ctx):
    return reverse("users-detail", args=[ctx.objects["superuser"].pk])


def _sessions_revoke(user_of):
    """The "end every session" URL of the user `user_of(ctx)`."""
    return lambda ctx: reverse("users-sessions-revoke", args=[user_of(ctx).pk])


def _connection(ctx):
    return reverse("connections-detail", args=[ctx.objects["connection"].pk])


def _connection_readers(status: int) -> dict:
    """Administrators and Employees see connections (Employees trigger syncs on them)."""
    return {"anonymous": 401, "viewer": 403, "employee": status, "administrator": status}


def _record(url_name: str, key: str):
    """The URL of `url_name` for the records object stored as `ctx.objects[key]`."""
    return lambda ctx: reverse(url_name, args=[ctx.objects[key].pk])


def staff_writes(status: int) -> dict:
    """Employees and Administrators may; Viewers may not (records writes)."""
    return {"anonymous": 401, "viewer": 403, "employee": status, "administrator": status}


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
    (
        "users-detail",  # superuser status is not granted through the API
        "patch",
        _other,
        lambda ctx: {"is_superuser": True},
        admin_only(400),
    ),
    (
        "users-sessions-revoke",
        "post",
        _sessions_revoke(lambda ctx: ctx.other),
        None,
        admin_only(204),
    ),
    # Administrator acting on a superuser: only a superuser may (nothing changes).
    *[
        ("users-detail", "patch", _superuser, lambda ctx, body=body: body, signed_in(403))
        for body in (
            {"email": "taken-over@example.com"},
            {"password": NEW_PASSWORD},
            {"role": "viewer"},
            {"is_active": False},
            {"name": "Renamed"},
        )
    ],
    ("users-detail", "delete", _superuser, None, signed_in(403)),
    (
        "users-sessions-revoke",
        "post",
        _sessions_revoke(lambda ctx: ctx.objects["superuser"]),
        None,
        signed_in(403),
    ),
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
    ("contacts-list", "get", reverse("contacts-list"), None, signed_in(200)),
    (
        "contacts-list",
        "post",
        reverse("contacts-list"),
        lambda ctx: {"company_name": "New B.V.", "country": "NL"},
        staff_writes(201),
    ),
    ("contacts-detail", "get", _record("contacts-detail", "contact"), None, signed_in(200)),
    (
        "contacts-detail",
        "patch",
        _record("contacts-detail", "contact"),
        lambda ctx: {"city": "Utrecht"},
        staff_writes(200),
    ),
    ("contacts-detail", "delete", _record("contacts-detail", "contact"), None, admin_only(204)),
    ("contacts-history", "get", _record("contacts-history", "contact"), None, signed_in(200)),
    ("products-list", "get", reverse("products-list"), None, signed_in(200)),
    (
        "products-list",
        "post",
        reverse("products-list"),
        lambda ctx: {
            "sku": "MATRIX-NEW",
            "title": "New",
            "price": "5.00",
            "tax_rate": str(ctx.objects["tax_rate"].pk),
        },
        staff_writes(201),
    ),
    ("products-detail", "get", _record("products-detail", "product"), None, signed_in(200)),
    (
        "products-detail",
        "patch",
        _record("products-detail", "product"),
        lambda ctx: {"price": "12.50"},
        staff_writes(200),
    ),
    ("products-detail", "delete", _record("products-detail", "product"), None, admin_only(204)),
    ("products-history", "get", _record("products-history", "product"), None, signed_in(200)),
    ("tax-rates-list", "get", reverse("tax-rates-list"), None, signed_in(200)),
    (
        "tax-rates-list",
        "post",
        reverse("tax-rates-list"),
        lambda ctx: {"name": "Matrix 6%", "percentage": "6.00"},
        admin_only(201),
    ),
    ("tax-rates-detail", "get", _record("tax-rates-detail", "tax_rate"), None, signed_in(200)),
    (
        "tax-rates-detail",
        "patch",
        _record("tax-rates-detail", "tax_rate"),
        lambda ctx: {"name": "High"},
        admin_only(200),
    ),
    (
        "tax-rates-detail",
        "delete",
        _record("tax-rates-detail", "unused_tax_rate"),
        None,
        admin_only(204),
    ),
    ("invoices-list", "get", reverse("invoices-list"), None, signed_in(200)),
    (
        "invoices-list",
        "post",
        reverse("invoices-list"),
        lambda ctx: {
            "contact": str(ctx.objects["customer"].pk),
            "lines": [
                {
                    "description": "Work",
                    "quantity": "2",
                    "unit_price": "50.00",
                    "tax_rate": str(ctx.objects["tax_rate"].pk),
                }
            ],
        },
        staff_writes(201),
    ),
    ("invoices-detail", "get", _record("invoices-detail", "open_invoice"), None, signed_in(200)),
    (
        "invoices-detail",
        "patch",
        _record("invoices-detail", "draft"),
        lambda ctx: {"notes": "Matrix"},
        staff_writes(200),
    ),
    ("invoices-detail", "delete", _record("invoices-detail", "draft"), None, staff_writes(204)),
    (
        "invoices-detail",  # numbered invoices are never deleted, whoever asks: cancel them
        "delete",
        _record("invoices-detail", "open_invoice"),
        None,
        {"anonymous": 401, "viewer": 403, "employee": 409, "administrator": 409},
    ),
    ("invoices-finalize", "post", _record("invoices-finalize", "draft"), None, staff_writes(200)),
    (
        "invoices-cancel",
        "post",
        _record("invoices-cancel", "open_invoice"),
        None,
        staff_writes(200),
    ),
    (
        "invoices-payments",
        "post",
        _record("invoices-payments", "open_invoice"),
        lambda ctx: {"amount": "10.00", "date": "2026-01-10", "method": "bank_transfer"},
        staff_writes(201),
    ),
    (
        "invoices-history",
        "get",
        _record("invoices-history", "open_invoice"),
        None,
        signed_in(200),
    ),
    # --- integrations: add rows here -----------------------------------------------------
    # Sync runs: every role sees them; Employees and Administrators trigger them.
    ("sync-runs-list", "get", reverse("sync-runs-list"), None, signed_in(200)),
    ("sync-runs-detail", "get", _record("sync-runs-detail", "sync_run"), None, signed_in(200)),
    (
        "connections-sync",
        "post",
        _record("connections-sync", "connection"),
        None,
        staff_writes(202),
    ),
    (
        "connections-sync",  # one is queued already: 409 with its id
        "post",
        _record("connections-sync", "offline_connection"),
        None,
        staff_writes(409),
    ),
    # Sending pushes an open invoice to the active connections (202, the push's state);
    # a draft cannot be sent (409), whoever asks.
    ("invoices-send", "post", _record("invoices-send", "open_invoice"), None, staff_writes(202)),
    ("invoices-send", "post", _record("invoices-send", "draft"), None, staff_writes(409)),
    ("connections-list", "get", reverse("connections-list"), None, _connection_readers(200)),
    (
        "connections-list",
        "post",
        reverse("connections-list"),
        lambda ctx: {
            "provider": "moneybird",
            "name": "New",
            "administration_id": "100003",
            "api_token": "new-matrix-token",
        },
        admin_only(201),
    ),
    ("connections-detail", "get", _connection, None, _connection_readers(200)),
    ("connections-detail", "patch", _connection, lambda ctx: {"name": "Renamed"}, admin_only(200)),
    (
        "connections-detail",
        "patch",
        _connection,
        lambda ctx: {"api_token": "rotated-matrix-token"},
        admin_only(200),
    ),
    (
        "connections-detail",
        "patch",
        _connection,
        lambda ctx: {"status": "disabled"},
        admin_only(200),
    ),
    ("connections-detail", "put", _connection, lambda ctx: {"name": "X"}, admin_only(405)),
    ("connections-detail", "delete", _connection, None, admin_only(204)),
    (
        "connections-test",
        "post",
        lambda ctx: reverse("connections-test", args=[ctx.objects["offline_connection"].pk]),
        None,
        admin_only(200),
    ),
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


def _http_case(name: str) -> pytest.param:
    """The first row of endpoint `name` that lets a role in (2xx, else any answer but 401
    or 403), as the least privileged such role: the view itself runs."""
    rows = [(index, row) for index, row in enumerate(MATRIX) if row[0] == name]
    for allowed in (lambda status: status < 300, lambda status: status not in (401, 403)):
        for index, (_, method, url, payload, statuses) in rows:
            for role in ROLES:
                if allowed(statuses[role]):
                    return pytest.param(
                        method,
                        url,
                        payload,
                        role,
                        statuses[role],
                        id=f"{name}-{method}-{index}-{role}",
                    )
    raise AssertionError(f"no role gets past authorization on {name}")


HTTP_CASES = [_http_case(name) for name in dict.fromkeys(row[0] for row in MATRIX)]


def _walk(send, method, url, payload, role, expected):
    """Set up, call as `role` through `send(method, path, body, access_token)`, check."""
    ctx = Context(role=role)
    for setup in SETUPS:
        setup(ctx)
    token = None
    if role != "anonymous":
        ctx.caller = UserFactory(role=role, email=f"{role}@example.com")
        ctx.caller_tokens = login(ctx.caller)
        token = ctx.caller_tokens.access_token
    path = url(ctx) if callable(url) else url
    body = payload(ctx) if payload else None
    before = snapshot()

    status, content = send(method, path, body, token)

    assert status == expected, content
    if expected >= 400:
        assert json.loads(content)["status"] == expected
    if method != "get" and expected >= 400:
        assert snapshot() == before, "a denied write changed data"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "payload", "role", "expected"), CASES)
def test_authorization_matrix(method, url, payload, role, expected):
    from rest_framework.test import APIClient

    def send(method, path, body, token):
        client = APIClient()
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = getattr(client, method)(path, body, format="json")
        return response.status_code, response.content

    _walk(send, method, url, payload, role, expected)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "url", "payload", "role", "expected"), HTTP_CASES)
def test_authorization_matrix_over_http(live_server, method, url, payload, role, expected):
    """Each endpoint of the same table once, against a real server over HTTP (a threaded
    live server); the in-process test above walks every row for every role."""

    def send(method, path, body, token):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.request(
            method.upper(), live_server.url + path, json=body, headers=headers, timeout=30
        )
        return response.status_code, response.content

    _walk(send, method, url, payload, role, expected)
