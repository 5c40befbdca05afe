"""Admin: the API token is a write-only form field; writes go through the services."""

import pytest
from django.test import Client
from django.urls import reverse

from integrations import services
from integrations.models import Connection, ConnectionIssue, IssueKind
from integrations.selectors import connection_credentials

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

TOKEN = "admin-form-token-91f0e2"
ADD = reverse("admin:integrations_connection_add")


@pytest.fixture
def browser(make_user):
    client = Client()
    client.force_login(make_user(role="administrator"))
    return client


def form(**overrides) -> dict:
    return {
        "provider": "moneybird", "name": "Admin made", "base_url": "",
        "administration_id": "4242", "api_token": TOKEN, "sync_interval_minutes": "15",
        "issues-TOTAL_FORMS": "0", "issues-INITIAL_FORMS": "0", **overrides,
    }  # fmt: skip


def change_url(connection) -> str:
    return reverse("admin:integrations_connection_change", args=[connection.pk])


def test_add_encrypts_the_token_and_never_shows_it(browser):
    assert browser.get(ADD).status_code == 200

    response = browser.post(ADD, form())

    assert response.status_code == 302, response.content.decode()[:2000]
    row = Connection.objects.get()
    assert connection_credentials(row).api_token == TOKEN
    assert row.base_url == "https://moneybird.com/api/v2"
    page = browser.get(change_url(row)).content.decode()
    assert TOKEN not in page
    assert row.encrypted_credentials not in page
    assert 'name="api_token"' in page


def test_an_unsafe_url_is_a_form_error(browser):
    response = browser.post(ADD, form(base_url="https://evil.example/api/v2"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "The provider URL host &#x27;evil.example&#x27; is not allowed." in page
    assert not Connection.objects.exists()


def test_change_without_a_token_keeps_it_and_with_one_replaces_it(browser):
    connection = ConnectionFactory(api_token=TOKEN, administration_id="4242")
    base = form(status="active", base_url="https://moneybird.com/api/v2")
    del base["provider"]

    kept = browser.post(change_url(connection), {**base, "name": "Renamed", "api_token": ""})
    replaced = browser.post(change_url(connection), {**base, "api_token": "new-admin-token-x"})

    assert (kept.status_code, replaced.status_code) == (302, 302)
    row = Connection.objects.get(pk=connection.pk)
    assert connection_credentials(row).api_token == "new-admin-token-x"
    assert row.name == "Admin made"


def test_issues_are_listed_and_can_be_resolved(browser):
    connection = ConnectionFactory()
    issue = services.connection_report_issue(
        connection=connection, kind=IssueKind.AUTHENTICATION, message="Token is invalid"
    )

    listing = browser.get(reverse("admin:integrations_connectionissue_changelist"))
    detail = browser.get(change_url(connection))
    resolved = browser.post(
        reverse("admin:integrations_connectionissue_changelist"),
        {"action": "resolve", "_selected_action": [str(issue.pk)]},
    )

    assert "Token is invalid" in listing.content.decode()
    assert "Token is invalid" in detail.content.decode()
    assert resolved.status_code == 302
    assert ConnectionIssue.objects.get(pk=issue.pk).resolved_at is not None
