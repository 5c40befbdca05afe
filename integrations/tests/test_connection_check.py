"""`POST /connections/{id}/test/` against the Moneybird sandbox over real loopback HTTP."""

import logging
import socket

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from integrations.models import Connection, ConnectionIssue, ConnectionStatus

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

ADMINISTRATIONS = "/api/v2/administrations.json"


def check_url(connection) -> str:
    return reverse("connections-test", args=[connection.pk])


@pytest.fixture
def admin(role_client):
    return role_client("administrator")


@pytest.fixture
def connect(sandbox):
    def connect(**fields):
        fields.setdefault("base_url", sandbox.api_url)
        fields.setdefault("administration_id", sandbox.administration_id)
        fields.setdefault("api_token", sandbox.token)
        return ConnectionFactory(**fields)

    return connect


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_good_credentials_find_the_administration(sandbox, connect, admin, caplog):
    caplog.set_level(logging.DEBUG)
    connection = connect()
    name = sandbox.server.store.administrations[sandbox.administration_id].name

    response = admin.post(check_url(connection))

    assert response.status_code == 200
    assert response.json() == {
        "ok": True, "administration": {"id": sandbox.administration_id, "name": name},
    }  # fmt: skip
    assert sandbox.control.calls() == [("GET", ADMINISTRATIONS, 200)]
    assert sandbox.token not in response.content.decode()
    assert sandbox.token not in caplog.text


def test_a_wrong_token_is_a_401_classified_as_needing_a_person(sandbox, connect, admin, caplog):
    caplog.set_level(logging.DEBUG)
    connection = connect(api_token="wrong-token-d41d8c")

    response = admin.post(check_url(connection))

    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is False
    assert data["error"]["kind"] == "needs_person"
    assert "[401]" in data["error"]["detail"]
    assert sandbox.control.calls() == [("GET", ADMINISTRATIONS, 401)]  # no retry of a 401
    assert "wrong-token-d41d8c" not in response.content.decode()
    assert "wrong-token-d41d8c" not in caplog.text
    # a check changes nothing: the sync engine marks connections
    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.ACTIVE
    assert not ConnectionIssue.objects.exists()


def test_an_administration_the_token_cannot_open_needs_a_person(sandbox, connect, admin):
    connection = connect(administration_id="999")

    response = admin.post(check_url(connection))

    assert response.json() == {"ok": False, "error": {
        "kind": "needs_person",
        "detail": "The administration is not accessible with this token",
    }}  # fmt: skip
    assert sandbox.control.calls() == [("GET", ADMINISTRATIONS, 200)]


def test_an_unreachable_provider_is_retryable_not_a_500(sandbox, connect, admin):
    connection = connect(base_url=f"http://127.0.0.1:{closed_port()}/api/v2")

    response = admin.post(check_url(connection))

    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is False
    assert data["error"]["kind"] == "retryable"
    assert data["error"]["detail"].startswith("Network error talking to Moneybird: ConnectError")
    assert sandbox.control.calls() == []


def test_a_provider_error_is_retryable_after_one_retry(sandbox, connect, admin):
    connection = connect()
    sandbox.control.fault("error", method="GET", path="*/administrations", status=503, times=5)

    response = admin.post(check_url(connection))

    assert response.json() == {"ok": False, "error": {
        "kind": "retryable", "detail": f"Moneybird server error 503 [503] (GET {ADMINISTRATIONS})",
    }}  # fmt: skip
    assert sandbox.control.calls() == [("GET", ADMINISTRATIONS, 503)] * 2


def test_a_connection_without_a_token_is_not_sent(sandbox, connect, admin):
    connection = connect()
    admin.delete(reverse("connections-detail", args=[connection.pk]))

    response = admin.post(check_url(connection))

    assert response.json() == {"ok": False, "error": {
        "kind": "needs_person", "detail": "The connection has no API token; set a new one",
    }}  # fmt: skip
    assert sandbox.control.calls() == []


def test_credentials_no_key_opens_need_a_person(sandbox, connect, admin, settings):
    connection = connect()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    response = admin.post(check_url(connection))

    assert response.json()["error"]["kind"] == "needs_person"
    assert "FIELD_ENCRYPTION_KEYS" in response.json()["error"]["detail"]
    assert sandbox.control.calls() == []


def test_a_stored_url_the_policy_now_refuses_is_not_sent(sandbox, connect, admin, settings):
    connection = connect()
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = False

    response = admin.post(check_url(connection))

    assert response.json()["error"] == {
        "kind": "needs_person", "detail": "The provider URL host '127.0.0.1' is not allowed",
    }  # fmt: skip
    assert sandbox.control.calls() == []
