"""Sync runs: start one (at most one active per connection), claim, progress, finish.

The services of the run's state machine; the pull runner (`integrations.sync.pull`)
claims a run, commits its batches through `sync_run_progress` and ends it here.

A run's life: `sync_run_start` creates it QUEUED and hands it to a worker after commit;
the worker claims it (RUNNING, `attempts` + 1), commits one batch at a time (progress,
counts and `heartbeat_at` in the batch's own transaction) and finishes it (SUCCEEDED,
PARTIAL when some records failed, FAILED). The partial unique index on SyncRun makes
"one active run per connection" hold across processes: the second INSERT fails and
`SyncAlreadyRunning` names the run that is active.

`attempts` is the fencing token: a worker holds the attempt it claimed, and each batch
commits only while the run still carries that attempt, so a worker that was given up
for dead (and replaced) cannot write over its successor.

While a run waits for a Celery retry, `heartbeat_at` is set to the time the retry is
due (it is "the latest time this run is known to be looked after"); the sweep takes
up runs whose heartbeat is older than INTEGRATIONS_SYNC_STALE_SECONDS (longer than one
batch takes: a fetch of 100 at the read timeout, with its retries).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from integrations import queue
from integrations.models import Connection, ConnectionStatus, SyncRun, SyncRunStatus, SyncTrigger
from integrations.models.sync import ACTIVE_RUN_STATUSES
from project.errors import Conflict

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # claims (first run, Celery retries, take-overs) before it is failed
MAX_ERRORS = 200  # errors kept on one run; the count goes on in failed_count


class SyncAlreadyRunning(Conflict):
    """A run of this connection is queued or running; `run` is that run."""

    def __init__(self, run: SyncRun) -> None:
        super().__init__(
            f"A sync of this connection is already {run.status} ({run.pk}).", run_id=str(run.pk)
        )
        self.run = run


class ConnectionNotActive(Conflict):
    """The connection is disabled or needs attention: nothing is pulled from it."""


class RunTakenOver(Exception):
    """Another worker claimed the run since this one did (this worker must stop)."""


def _dispatch(run: SyncRun) -> None:
    queue.enqueue(queue.SYNC_RUN, str(run.pk))


def sync_run_create(
    *, connection: Connection, by=None, trigger: str = SyncTrigger.MANUAL
) -> SyncRun:
    """A QUEUED run of `connection` (not dispatched; `sync_run_start` dispatches).

    Raises `ConnectionNotActive`, or `SyncAlreadyRunning` with the active run."""
    if connection.status != ConnectionStatus.ACTIVE:
        raise ConnectionNotActive(
            f"The connection is {connection.get_status_display().lower()}; nothing is synced."
        )
    retried = False
    while True:
        try:
            with transaction.atomic():
                return SyncRun.objects.create(
                    connection=connection,
                    trigger=trigger,
                    started_by=by if getattr(by, "is_authenticated", False) else None,
                )
        except IntegrityError:
            # The one-active-run index. Databases word the violation differently, so the
            # active run itself is the evidence, not the error message.
            running = SyncRun.objects.filter(
                connection=connection, status__in=ACTIVE_RUN_STATUSES
            ).first()
            if running is not None:
                raise SyncAlreadyRunning(running) from None
            if retried:  # not that index, or runs keep finishing under us
                raise
            retried = True  # it finished between our INSERT and the read: once more


@transaction.atomic
def sync_run_start(
    *, connection: Connection, by=None, trigger: str = SyncTrigger.MANUAL
) -> SyncRun:
    """Queue a pull of `connection` and hand it to a worker after commit."""
    run = sync_run_create(connection=connection, by=by, trigger=trigger)
    _dispatch(run)
    logger.info(
        "integrations: sync run %s of connection %s queued (%s) by %s",
        run.pk,
        connection.pk,
        trigger,
        getattr(run.started_by, "pk", None),
    )
    return run


@transaction.atomic
def sync_run_claim(*, run_id) -> SyncRun | None:
    """Take the run for this worker: RUNNING, one more attempt. None when it is already
    finished (a re-delivered task) or gone. A run past MAX_ATTEMPTS is failed instead."""
    run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.status not in ACTIVE_RUN_STATUSES:
        return None
    now = timezone.now()
    if run.attempts >= MAX_ATTEMPTS:
        _finish(run, SyncRunStatus.FAILED, error=f"Given up after {run.attempts} attempts.")
        return None
    run.status = SyncRunStatus.RUNNING
    run.started_at = run.started_at or now
    run.heartbeat_at = now
    run.attempts += 1
    run.save(update_fields=["status", "started_at", "heartbeat_at", "attempts"])
    return run


def locked_run(run: SyncRun) -> SyncRun:
    """The run row locked in the current transaction, if `run`'s attempt still holds it."""
    current = SyncRun.objects.select_for_update().get(pk=run.pk)
    if current.attempts != run.attempts or current.status != SyncRunStatus.RUNNING:
        raise RunTakenOver(f"Sync run {run.pk} was taken over or finished elsewhere.")
    return current


def _append_errors(run: SyncRun, errors: list[dict]) -> None:
    room = MAX_ERRORS - len(run.errors)
    if errors and room > 0:
        run.errors = [*run.errors, *errors[:room]]


PROGRESS_FIELDS = [
    "progress_done",
    "progress_total",
    "created_count",
    "updated_count",
    "deleted_count",
    "failed_count",
    "errors",
    "heartbeat_at",
]


def sync_run_progress(
    *,
    run: SyncRun,
    done: int = 0,
    total: int | None = None,
    created: int = 0,
    updated: int = 0,
    deleted: int = 0,
    failed: int = 0,
    errors: list[dict] | None = None,
    locked: SyncRun | None = None,
) -> SyncRun:
    """Add one committed batch to the run. Call inside the batch's transaction, so the
    counts move exactly when the batch's rows do (a re-run batch is not counted twice).
    `locked`: the run as `locked_run` returned it earlier in this transaction (it is
    not locked and read again)."""
    current = locked if locked is not None else locked_run(run)
    current.progress_done += done
    if total is not None:
        current.progress_total = total
    current.progress_total = max(current.progress_total, current.progress_done)
    current.created_count += created
    current.updated_count += updated
    current.deleted_count += deleted
    current.failed_count += failed
    _append_errors(current, errors or [])
    current.heartbeat_at = timezone.now()
    current.save(update_fields=PROGRESS_FIELDS)
    run.__dict__.update({name: getattr(current, name) for name in PROGRESS_FIELDS})
    return current


def _finish(run: SyncRun, status: str, *, error: str | None = None) -> None:
    run.status = status
    run.finished_at = timezone.now()
    if error:
        _append_errors(run, [{"error": error}])
    run.save(update_fields=["status", "finished_at", "errors"])


@transaction.atomic
def sync_run_finish(*, run: SyncRun, error: str | None = None) -> SyncRun:
    """End the run: FAILED with `error`, else PARTIAL if records failed, else SUCCEEDED
    (which also stamps the connection's `last_pulled_at`)."""
    current = locked_run(run)
    if error:
        status = SyncRunStatus.FAILED
    elif current.failed_count:
        status = SyncRunStatus.PARTIAL
    else:
        status = SyncRunStatus.SUCCEEDED
    _finish(current, status, error=error)
    if status != SyncRunStatus.FAILED:
        Connection.objects.filter(pk=current.connection_id).update(
            last_pulled_at=current.finished_at
        )
    logger.info(
        "integrations: sync run %s %s (done %d of %d, created %d, updated %d, "
        "deleted %d, failed %d)",
        current.pk,
        status,
        current.progress_done,
        current.progress_total,
        current.created_count,
        current.updated_count,
        current.deleted_count,
        current.failed_count,
    )
    return current


@transaction.atomic
def sync_run_fail(*, run_id, error: str) -> None:
    """Fail an active run whatever attempt holds it (a task's retries ran out)."""
    run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
    if run is not None and run.status in ACTIVE_RUN_STATUSES:
        _finish(run, SyncRunStatus.FAILED, error=error)


@transaction.atomic
def sync_run_wait(*, run_id, until, error: str) -> None:
    """The run waits for a Celery retry at `until`: noted in its errors, and its
    heartbeat set to then, so the sweep does not take it up meanwhile."""
    current = SyncRun.objects.select_for_update().filter(pk=run_id).first()
    if current is None or current.status not in ACTIVE_RUN_STATUSES:
        return
    current.heartbeat_at = until
    _append_errors(current, [{"error": error, "retry_at": until.isoformat()}])
    current.save(update_fields=["heartbeat_at", "errors"])


# --- the per-minute beat entry ---------------------------------------------------------------


def sync_runs_enqueue_due(*, now=None) -> list[SyncRun]:
    """Queue a scheduled run of every active connection whose interval has passed since
    its last run was queued (and that has no active run)."""
    now = now or timezone.now()
    last = (
        SyncRun.objects.filter(connection=OuterRef("pk"))
        .order_by()
        .values("connection")
        .annotate(last=Max("queued_at"))
        .values("last")
    )
    candidates = (
        Connection.objects.filter(status=ConnectionStatus.ACTIVE)
        .annotate(last_run=Subquery(last))
        .exclude(runs__status__in=ACTIVE_RUN_STATUSES)
    )
    # The interval test in Python: connections are few, and SQLite cannot multiply a
    # duration by a column (the embedded default runs this too).
    due = [
        connection
        for connection in candidates
        if connection.last_run is None
        or connection.last_run <= now - timedelta(minutes=connection.sync_interval_minutes)
    ]
    started = []
    for connection in due:
        try:
            started.append(sync_run_start(connection=connection, trigger=SyncTrigger.SCHEDULE))
        except (SyncAlreadyRunning, ConnectionNotActive):
            continue
    return started


def sync_runs_requeue_stale(*, stale_after: timedelta | None = None, now=None) -> list[SyncRun]:
    """Hand active runs that nobody looks after any more (their worker died, or their
    message was lost) to a worker again; the worker's claim takes them over. Their
    heartbeat is moved to now, so the next sweep gives the new task time to start."""
    now = now or timezone.now()
    if stale_after is None:
        stale_after = timedelta(seconds=settings.INTEGRATIONS_SYNC_STALE_SECONDS)
    cutoff = now - stale_after
    stale = SyncRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, queued_at__lt=cutoff)
    )
    runs = []
    for run in stale:
        with transaction.atomic():
            moved = SyncRun.objects.filter(
                pk=run.pk, status__in=ACTIVE_RUN_STATUSES, heartbeat_at=run.heartbeat_at
            ).update(heartbeat_at=now)
            if not moved:  # its worker spoke up meanwhile, or it finished
                continue
            _dispatch(run)
        logger.warning(
            "integrations: sync run %s (%s, heartbeat %s) handed to a worker again",
            run.pk,
            run.status,
            run.heartbeat_at,
        )
        runs.append(run)
    return runs
