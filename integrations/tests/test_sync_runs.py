"""The sync-run API: trigger (202 queued, 409 with the running run), progress and counts
to poll; the per-minute beat entry that queues due runs; needs-attention and retries."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import (
    ConnectionIssue,
    ConnectionStatus,
    IssueKind,
    SyncRun,
    SyncRunStatus,
    SyncTrigger,
)
from integrations.services import connection_update
from integrations.services import sync_runs as runs
from records.tests.factories import TaxRateFactory

from .factories import ConnectionFactory
from .pulling import api_calls, sync, wait_for_run

LIST = reverse("sync-runs-list")


def trigger_url(connection) -> str:
    return reverse("connections-sync", args=[connection.pk])


@pytest.mark.django_db(transaction=True)
def test_trigger_answers_202_queued_then_409_with_the_running_run(
    sandbox, connection, role_client, celery_worker_process
):
    for percentage in (21, 9, 0):
        TaxRateFactory(
            percentage=percentage
        )  # linked by percentage: 5 created (2 products, 3 contacts)
    employee = role_client("employee")
    # Slow enough that the run is still going when the second trigger comes.
    sandbox.control.fault("slow", method="GET", path="*/tax_rates", delay=1.5)

    response = employee.post(trigger_url(connection))

    assert response.status_code == 202, response.content
    body = response.json()
    run = SyncRun.objects.get()
    assert body == {
        "id": str(run.pk),
        "connection": str(connection.pk),
        "status": "queued",
        "trigger": "manual",
        "progress": {"done": 0, "total": 0},
        "counts": {"created": 0, "updated": 0, "deleted": 0, "failed": 0},
        "errors": [],
        "started_by": {"id": str(employee.user.pk), "email": employee.user.email},
        "queued_at": body["queued_at"],
        "started_at": None,
        "finished_at": None,
    }
    assert response["Location"].endswith(reverse("sync-runs-detail", args=[run.pk]))

    second = role_client("administrator").post(trigger_url(connection))

    assert second.status_code == 409, second.content
    assert second.json()["run_id"] == str(run.pk)
    assert second.json()["status"] == 409
    assert SyncRun.objects.count() == 1

    finished = wait_for_run(run)
    detail = role_client("viewer").get(reverse("sync-runs-detail", args=[run.pk]))
    assert detail.status_code == 200
    data = detail.json()
    assert data["status"] == "succeeded" == finished.status
    assert data["progress"] == {"done": 8, "total": 8}
    assert data["counts"] == {"created": 5, "updated": 0, "deleted": 0, "failed": 0}
    assert data["started_at"] is not None
    assert data["finished_at"] is not None
    connection.refresh_from_db()
    assert connection.last_pulled_at == finished.finished_at
    # Finished: a new trigger is welcome again.
    assert employee.post(trigger_url(connection)).status_code == 202


@pytest.mark.django_db
def test_list_filters_and_pages_runs_newest_first(role_client, django_assert_max_num_queries):
    one, two = ConnectionFactory(), ConnectionFactory()
    older = runs.sync_run_create(connection=one)
    runs.sync_run_fail(run_id=older.pk, error="boom")
    newer = runs.sync_run_create(connection=two)
    viewer = role_client("viewer")

    with django_assert_max_num_queries(6):
        response = viewer.get(LIST)

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(newer.pk), str(older.pk)]
    failed = viewer.get(LIST, {"status": "failed"}).json()["results"]
    assert [(r["id"], r["errors"]) for r in failed] == [(str(older.pk), [{"error": "boom"}])]
    assert [r["id"] for r in viewer.get(LIST, {"connection": str(two.pk)}).json()["results"]] == [
        str(newer.pk)
    ]


@pytest.mark.django_db
def test_viewers_see_runs_but_cannot_trigger(role_client):
    connection = ConnectionFactory()
    response = role_client("viewer").post(trigger_url(connection))
    assert response.status_code == 403
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_a_disabled_connection_is_not_synced(role_client):
    connection = ConnectionFactory()
    connection_update(connection=connection, status=ConnectionStatus.DISABLED)
    response = role_client("employee").post(trigger_url(connection))
    assert response.status_code == 409
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_the_tick_queues_connections_whose_interval_passed():
    due = ConnectionFactory(sync_interval_minutes=15)
    recent = ConnectionFactory(sync_interval_minutes=15)
    runs.sync_run_fail(run_id=runs.sync_run_create(connection=recent).pk, error="x")
    old = ConnectionFactory(sync_interval_minutes=5)
    past = runs.sync_run_create(connection=old)
    runs.sync_run_fail(run_id=past.pk, error="x")
    SyncRun.objects.filter(pk=past.pk).update(queued_at=timezone.now() - timedelta(minutes=6))
    disabled = ConnectionFactory()
    connection_update(connection=disabled, status=ConnectionStatus.DISABLED)

    started = runs.sync_runs_enqueue_due()

    assert sorted(r.connection_id for r in started) == sorted([due.pk, old.pk])
    assert all(r.trigger == SyncTrigger.SCHEDULE for r in started)
    assert runs.sync_runs_enqueue_due() == []  # queued now: not due again


@pytest.mark.django_db(transaction=True)
def test_a_refused_token_fails_the_run_and_marks_the_connection(
    sandbox, connection, celery_worker_process
):
    connection_update(connection=connection, api_token="not-the-sandbox-token")

    run = sync(connection)

    assert run.status == SyncRunStatus.FAILED
    assert run.attempts == 1  # no retries for what a person must fix
    assert run.errors[-1]["error"].startswith("The access token is invalid [401]")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_ATTENTION
    assert ConnectionIssue.objects.get().kind == IssueKind.AUTHENTICATION
    assert len(api_calls(sandbox)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_busy_provider_is_retried_later_and_the_run_completes(
    sandbox, connection, celery_worker_process
):
    sandbox.control.fault(
        "rate_limit", method="GET", path="*/tax_rates", retry_after=1, retry_after_form="epoch"
    )
    started = time.time()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.errors
    assert run.attempts == 2
    assert run.errors[0]["error"].startswith("Moneybird rate limit reached")
    assert time.time() - started >= 0.9  # not before Retry-After
