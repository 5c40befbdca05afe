"""Helpers of the pull and sync-run tests: waiting for runs, the requests the sandbox got.

The `connection` fixture (an active connection to the sandbox) is in conftest.py."""

import time

from integrations import services
from integrations.models import SyncRun, SyncRunStatus

FINISHED = (SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL, SyncRunStatus.FAILED)


def wait_for_run(run, *, timeout: float = 30.0, until=FINISHED) -> SyncRun:
    """Poll the run's row until its status is one of `until` (a worker runs it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = SyncRun.objects.get(pk=run.pk)
        if run.status in until:
            return run
        time.sleep(0.05)
    raise AssertionError(f"sync run {run.pk} still {run.status} after {timeout}s: {run.errors}")


def sync(connection, *, by=None, timeout: float = 30.0) -> SyncRun:
    """Trigger a run as the API does and wait for the worker to finish it."""
    return wait_for_run(services.sync_run_start(connection=connection, by=by), timeout=timeout)


def api_calls(sandbox) -> list[tuple[str, str]]:
    """(method, path below the administration) of every request the sandbox got."""
    prefix = f"/api/v2/{sandbox.administration_id}/"
    return [(m, p.removeprefix(prefix)) for m, p, _ in sandbox.control.calls()]
