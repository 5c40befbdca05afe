"""Admin: "Sync now" on connections, runs with their progress and errors, conflicts."""

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import RemoteKind, SyncConflict, SyncRun, SyncTrigger
from integrations.services import sync_runs as runs
from records.tests.factories import ContactFactory

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(make_user):
    client = Client()
    client.force_login(make_user(role="employee", is_staff=True))
    return client


def test_sync_now_queues_a_run_and_names_the_running_one(browser):
    connection = ConnectionFactory()
    url = reverse("admin:integrations_connection_changelist")
    action = {"action": "sync_now", "_selected_action": [str(connection.pk)]}

    response = browser.post(url, action, follow=True)

    run = SyncRun.objects.get()
    assert (run.connection, run.trigger, run.status) == (connection, SyncTrigger.MANUAL, "queued")
    assert f"sync queued ({run.pk})" in response.content.decode()
    again = browser.post(url, action, follow=True).content.decode()
    assert f"already queued ({run.pk})" in again
    assert SyncRun.objects.count() == 1


def test_runs_show_progress_and_errors(browser):
    run = runs.sync_run_create(connection=ConnectionFactory())
    SyncRun.objects.filter(pk=run.pk).update(
        progress_done=40, progress_total=160, status="running",
        errors=[{"kind": "contact", "remote_id": "77", "error": "company_name: required"}],
    )  # fmt: skip

    listing = browser.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    detail = browser.get(reverse("admin:integrations_syncrun_change", args=[run.pk]))

    assert '<progress value="40" max="160"></progress> 40 of 160' in listing
    assert detail.status_code == 200
    assert "<li>contact 77: company_name: required</li>" in detail.content.decode()


def test_conflicts_are_listed_and_resolved(make_user):
    admin = Client()
    admin.force_login(make_user(role="administrator"))
    contact = ContactFactory(company_name="Both B.V.")
    conflict = SyncConflict.objects.create(
        connection=ConnectionFactory(), kind=RemoteKind.CONTACT, local_id=contact.pk,
        remote_id="5", local_values={"city": "Utrecht"}, remote_values={"city": "Haarlem"},
    )  # fmt: skip
    url = reverse("admin:integrations_syncconflict_changelist")
    assert str(contact.pk) in admin.get(url).content.decode()

    admin.post(url, {"action": "resolve", "_selected_action": [str(conflict.pk)]})

    conflict.refresh_from_db()
    assert conflict.resolved_at is not None
