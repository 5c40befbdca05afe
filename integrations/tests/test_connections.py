"""Connections API and services: create, read, change, disable; the token is write-only."""

import logging

import pytest
from django.urls import reverse

from integrations import services
from integrations.models import Connection, ConnectionIssue, ConnectionStatus, IssueKind
from integrations.providers.moneybird import PRODUCTION_URL
from integrations.selectors import connection_credentials

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

LIST = reverse("connections-list")
TOKEN = "secret-moneybird-token-5e1c"
NEW_TOKEN = "replacement-token-77aa"


def detail(connection) -> str:
    return reverse("connections-detail", args=[connection.pk])


def body(**overrides) -> dict:
    return {"provider": "moneybird", "name": "Main administration",
            "administration_id": "123456789", "api_token": TOKEN, **overrides}  # fmt: skip


@pytest.fixture
def admin(role_client):
    return role_client("administrator")


def test_create_stores_the_connection_and_answers_without_the_token(admin, caplog):
    caplog.set_level(logging.DEBUG)

    response = admin.post(LIST, body(), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    row = Connection.objects.get()
    assert data == {
        "id": str(row.pk), "provider": "moneybird", "name": "Main administration",
        "base_url": PRODUCTION_URL, "administration_id": "123456789", "status": "active",
        "has_credentials": True, "sync_interval_minutes": 15, "last_pushed_at": None,
        "last_pulled_at": None, "open_issues": [],
        "created_at": data["created_at"], "updated_at": data["updated_at"],
    }  # fmt: skip
    assert TOKEN not in response.content.decode()
    assert TOKEN not in caplog.text
    assert connection_credentials(row).api_token == TOKEN
    assert row.created_by == admin.user


def test_the_token_is_in_no_response_body(admin, role_client, caplog):
    caplog.set_level(logging.DEBUG)
    created = admin.post(LIST, body(), format="json")
    url = reverse("connections-detail", args=[created.json()["id"]])
    employee = role_client("employee")

    responses = [
        created,
        admin.get(LIST),
        admin.get(url),
        employee.get(LIST),
        employee.get(url),
        admin.patch(url, {"api_token": NEW_TOKEN}, format="json"),
        admin.patch(url, {"name": "Renamed"}, format="json"),
        admin.post(LIST, body(), format="json"),  # a duplicate: 400
        admin.post(LIST, body(base_url="https://evil.example/api/v2"), format="json"),
        admin.delete(url),
        admin.get(url),
    ]

    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 200, 200, 400, 400,
                                                  204, 200]  # fmt: skip
    for response in responses:
        assert TOKEN not in response.content.decode()
        assert NEW_TOKEN not in response.content.decode()
        assert "api_token" not in (response.json() if response.content else {})
    assert TOKEN not in caplog.text
    assert NEW_TOKEN not in caplog.text


def test_base_url_defaults_to_the_provider_and_is_normalized(admin):
    response = admin.post(LIST, body(base_url="https://moneybird.com/api/v2/"), format="json")

    assert response.status_code == 201
    assert response.json()["base_url"] == "https://moneybird.com/api/v2"


@pytest.mark.parametrize(("url", "message"), [
    ("http://moneybird.com/api/v2", "The provider URL host 'moneybird.com' is not allowed."),
    ("https://evil.example/api/v2", "The provider URL host 'evil.example' is not allowed."),
    ("https://10.0.0.5/api/v2", "The provider URL host '10.0.0.5' is not allowed."),
    ("https://169.254.169.254/latest", "The provider URL host '169.254.169.254' is not allowed."),
    ("ftp://moneybird.com/api/v2", "The provider URL scheme 'ftp' is not allowed."),
    ("https://user:pw@moneybird.com/api/v2", "The provider URL must not contain credentials."),
    ("http://127.0.0.1:8000/api/v2", "The provider URL host '127.0.0.1' is not allowed."),
])  # fmt: skip
def test_urls_the_outbound_policy_refuses_are_a_400_naming_base_url(admin, settings, url, message):
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = False

    response = admin.post(LIST, body(base_url=url), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"base_url": [message]}
    assert not Connection.objects.exists()


def test_loopback_urls_are_allowed_only_with_the_setting(admin, settings):
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = True

    response = admin.post(LIST, body(base_url="http://127.0.0.1:8000/api/v2"), format="json")

    assert response.status_code == 201
    assert response.json()["base_url"] == "http://127.0.0.1:8000/api/v2"


def test_patching_base_url_is_checked_by_the_policy_too(admin):
    connection = ConnectionFactory()

    response = admin.patch(detail(connection), {"base_url": "https://evil.example"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["base_url"]
    connection.refresh_from_db()
    assert connection.base_url == PRODUCTION_URL


def test_input_is_validated_strictly(admin):
    response = admin.post(LIST, body(api_token="", status="disabled", colour="red"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "api_token": ["This field may not be blank."],
        "status": ["This field is read-only."],
        "colour": ["Unknown field."],
    }
    assert not Connection.objects.exists()


def test_administration_id_must_be_numeric_in_the_service(admin):
    response = admin.post(LIST, body(administration_id="12ab"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "administration_id": ["The administration id is a number (up to 32 digits)."]
    }


def test_one_connection_per_administration(admin):
    ConnectionFactory(administration_id="123456789")

    response = admin.post(LIST, body(), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "administration_id": ["A connection to this administration already exists."]
    }
    assert Connection.objects.count() == 1


def test_patch_changes_fields_and_replaces_the_token(admin):
    connection = ConnectionFactory(api_token=TOKEN)
    before = Connection.objects.get(pk=connection.pk).encrypted_credentials

    response = admin.patch(
        detail(connection),
        {"name": "Renamed", "sync_interval_minutes": 60, "api_token": NEW_TOKEN},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["sync_interval_minutes"]) == ("Renamed", 60)
    row = Connection.objects.get(pk=connection.pk)
    assert row.encrypted_credentials != before
    assert connection_credentials(row).api_token == NEW_TOKEN


def test_patch_refuses_read_only_fields(admin):
    connection = ConnectionFactory()

    response = admin.patch(
        detail(connection), {"last_pulled_at": "2026-01-01T00:00:00Z", "provider": "x"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "last_pulled_at": ["This field is read-only."],
        "provider": ["This field is read-only."],
    }


def test_disable_and_reactivate_through_status(admin):
    connection = ConnectionFactory()

    disabled = admin.patch(detail(connection), {"status": "disabled"}, format="json")
    active = admin.patch(detail(connection), {"status": "active"}, format="json")
    refused = admin.patch(detail(connection), {"status": "needs_attention"}, format="json")

    assert (disabled.status_code, disabled.json()["status"]) == (200, "disabled")
    assert (active.status_code, active.json()["status"]) == (200, "active")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["status"]


def test_delete_disables_and_erases_the_token(admin):
    connection = ConnectionFactory(api_token=TOKEN)

    response = admin.delete(detail(connection))

    assert response.status_code == 204
    row = Connection.objects.get(pk=connection.pk)
    assert (row.status, row.encrypted_credentials) == (ConnectionStatus.DISABLED, "")
    shown = admin.get(detail(connection)).json()
    assert (shown["status"], shown["has_credentials"]) == ("disabled", False)
    assert admin.delete(detail(connection)).status_code == 204  # idempotent


def test_reactivating_an_erased_connection_needs_a_new_token(admin):
    connection = ConnectionFactory(api_token=TOKEN)
    admin.delete(detail(connection))

    refused = admin.patch(detail(connection), {"status": "active"}, format="json")
    accepted = admin.patch(
        detail(connection), {"status": "active", "api_token": NEW_TOKEN}, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "api_token": ["Send a new API token to reactivate this connection."]
    }
    assert accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["has_credentials"]) == ("active", True)
    assert connection_credentials(Connection.objects.get(pk=connection.pk)).api_token == NEW_TOKEN


def test_the_administration_cannot_change_after_a_sync(admin):
    connection = ConnectionFactory(administration_id="111")
    Connection.objects.filter(pk=connection.pk).update(last_pulled_at="2026-01-01T00:00:00Z")

    response = admin.patch(detail(connection), {"administration_id": "222"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["administration_id"]
    assert Connection.objects.get(pk=connection.pk).administration_id == "111"


def test_unknown_id_is_404_in_the_error_shape(admin):
    response = admin.get(reverse("connections-detail", args=["0" * 32]))

    assert response.status_code == 404
    assert response.json()["status"] == 404


# --- issues ---------------------------------------------------------------------------------
def test_an_issue_marks_the_connection_and_shows_in_the_api(admin):
    connection = ConnectionFactory()

    first = services.connection_report_issue(
        connection=connection, kind=IssueKind.AUTHENTICATION, message="Token is invalid"
    )
    again = services.connection_report_issue(
        connection=connection, kind=IssueKind.AUTHENTICATION, message="Token is invalid (2)"
    )

    assert again.pk == first.pk
    assert ConnectionIssue.objects.count() == 1
    shown = admin.get(detail(connection)).json()
    assert shown["status"] == "needs_attention"
    assert [(i["id"], i["kind"], i["message"]) for i in shown["open_issues"]] == [
        (str(first.pk), "authentication", "Token is invalid (2)")
    ]


def test_an_issue_leaves_a_disabled_connection_disabled():
    connection = ConnectionFactory()
    services.connection_disable(connection=connection)

    services.connection_report_issue(connection=connection, kind=IssueKind.OTHER, message="x")

    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.DISABLED


def test_reactivating_resolves_the_open_issues(admin):
    connection = ConnectionFactory()
    issue = services.connection_report_issue(
        connection=connection, kind=IssueKind.PLAN_LIMIT, message="Plan limit reached"
    )

    response = admin.patch(detail(connection), {"status": "active"}, format="json")

    assert (response.json()["status"], response.json()["open_issues"]) == ("active", [])
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    assert issue.resolved_by == admin.user
    reopened = services.connection_report_issue(
        connection=connection, kind=IssueKind.PLAN_LIMIT, message="Again"
    )
    assert reopened.pk != issue.pk  # a resolved issue is history; a new one opens


# --- list ------------------------------------------------------------------------------------
def test_list_is_paginated_filtered_and_has_no_n_plus_one(admin, django_assert_max_num_queries):
    for word in ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"):
        connection = ConnectionFactory(name=f"Books {word}")
        services.connection_report_issue(connection=connection, kind=IssueKind.OTHER, message="x")
    services.connection_disable(connection=Connection.objects.get(name="Books Alpha"))

    with django_assert_max_num_queries(4):  # user, connections page, their open issues
        response = admin.get(LIST, {"page_size": 4})
    filtered = admin.get(LIST, {"status": "disabled"})
    searched = admin.get(LIST, {"search": "delta"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 4
    assert response.json()["next"]
    assert all(len(row["open_issues"]) == 1 for row in response.json()["results"])
    assert [row["name"] for row in filtered.json()["results"]] == ["Books Alpha"]
    assert [row["name"] for row in searched.json()["results"]] == ["Books Delta"]
