"""Helpers of the pull and sync-run tests: a connection to the sandbox, waiting for runs.

Test modules take the fixture with `from .pulling import connection_fixture  # noqa: F401`.
"""

import time

import pytest

from integrations.models import SyncRun, SyncRunStatus
from integrations.providers.budget import RequestBudget, connection_key
from integrations.sync import runs

from .factories import make_connection

FINISHED = (SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL, SyncRunStatus.FAILED)


@pytest.fixture(name="connection")
def connection_fixture(sandbox):
    """An active connection to the sandbox, its shared request budget emptied."""
    connection = make_connection(
        base_url=sandbox.api_url, administration_id=sandbox.administration_id,
        api_token=sandbox.token,
    )  # fmt: skip
    budget = RequestBudget(connection_key(connection.base_url, connection.administration_id))
    budget.clear()
    yield connection
    budget.clear()


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
    return wait_for_run(runs.sync_run_start(connection=connection, by=by), timeout=timeout)


def api_calls(sandbox) -> list[tuple[str, str]]:
    """(method, path below the administration) of every request the sandbox got."""
    prefix = f"/api/v2/{sandbox.administration_id}/"
    return [(m, p.removeprefix(prefix)) for m, p, _ in sandbox.control.calls()]
