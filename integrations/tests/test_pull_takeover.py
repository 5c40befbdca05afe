"""A worker killed (SIGKILL) in the middle of a sync run: the run is taken up again by
another worker and completes, with no duplicate and nothing lost."""

import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection as db

from integrations.models import ExternalLink, RemoteKind, SyncRun, SyncRunStatus
from integrations.services import sync_runs as runs
from integrations.tasks.pull import sync_run_execute
from records.models import Contact
from records.tests.factories import TaxRateFactory
from tests.support.workers import database_url_for, start_worker, stop_process, worker_env

from .pulling import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_whose_worker_was_killed_is_taken_over_and_completes(
    sandbox, connection, celery_worker_process
):
    for percentage in (21, 9, 0):
        TaxRateFactory(percentage=percentage)  # linked by percentage, not created
    sandbox.control.seed(contacts=300)  # + the 3 demo contacts: 4 fetches of up to 100
    sandbox.control.fault(
        "slow", method="POST", path="*/contacts/synchronization", delay=1.0, times=10
    )
    queue = f"takeover-{uuid.uuid4().hex[:8]}"  # only the worker we kill listens here
    doomed = start_worker(worker_env(database_url_for(db.settings_dict)), extra_args=("-Q", queue))
    try:
        run = runs.sync_run_create(connection=connection)
        sync_run_execute.apply_async(args=[str(run.pk)], queue=queue)
        deadline = time.monotonic() + 30
        while SyncRun.objects.get(pk=run.pk).progress_done < 105:  # rates, products, 1 batch
            assert time.monotonic() < deadline, "the run did not get going"
            time.sleep(0.05)
        doomed.kill()  # SIGKILL: no cleanup, the task is never acknowledged
        doomed.wait()
    finally:
        if doomed.poll() is None:
            stop_process(doomed)
    halfway = SyncRun.objects.get(pk=run.pk)
    assert halfway.status == SyncRunStatus.RUNNING
    assert 105 <= halfway.progress_done < 308
    assert Contact.objects.count() == halfway.progress_done - 5
    sandbox.control.clear_faults()

    # The beat's sweep finds the run without a heartbeat and hands it to a worker.
    assert runs.sync_runs_requeue_stale(stale_after=timedelta(0)) == [halfway]
    done = wait_for_run(run)

    assert done.status == SyncRunStatus.SUCCEEDED, done.errors
    assert done.attempts == 2
    assert (done.progress_done, done.progress_total) == (308, 308)  # 3 rates, 2 products, 303
    assert (done.created_count, done.updated_count, done.failed_count) == (305, 0, 0)
    assert Contact.objects.count() == 303
    assert Contact.objects.values("customer_number").distinct().count() == 303
    links = ExternalLink.objects.filter(connection=connection, kind=RemoteKind.CONTACT)
    assert links.count() == 303
    assert set(links.values_list("local_id", flat=True)) == set(
        Contact.objects.values_list("pk", flat=True)
    )
