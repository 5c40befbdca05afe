"""Tasks that pull from the accounting system: sync runs (the runner: integrations.sync.pull).

Thin: `sync_run_execute` claims and runs one sync run; it is idempotent (a finished run
is left alone, a re-delivered one is taken over under the run's row lock). A retryable
provider error (network, 5xx, 429, our own request budget) is retried through Celery's
`retry`, never `sleep`, with exponential backoff and jitter, not before the provider's
`retry_at`. `sync_tick` is the one beat entry (every minute): it queues the runs that
are due by each connection's `sync_interval_minutes` and hands stale runs (their worker
died) to a worker again. Services enqueue these by name (`integrations.queue`).
"""

import logging
import time
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from integrations import queue
from integrations.providers.base import RetryableError, backoff_seconds
from integrations.services import (
    sync_run_fail,
    sync_run_wait,
    sync_runs_enqueue_due,
    sync_runs_requeue_stale,
)
from integrations.sync.pull import sync_run_pull

logger = logging.getLogger(__name__)
MAX_RETRIES = 10


@shared_task(bind=True, name=queue.SYNC_RUN, max_retries=MAX_RETRIES, ignore_result=True)
def sync_run_execute(self, run_id: str) -> None:
    """Pull one sync run; retry later when the provider (or the database) asks us to."""
    # ChangeRecords name their model by content type id, which this process caches; a
    # database that was flushed and filled again (the tests do) has new ids. One query
    # per model and run is cheap insurance.
    ContentType.objects.clear_cache()
    try:
        sync_run_pull(run_id=run_id)
    except SoftTimeLimitExceeded:
        # A long pull (a big first sync under the provider's rate limit) goes on in a
        # fresh task: the committed batches stay, the listing finds what is left.
        sync_run_wait(
            run_id=run_id,
            until=timezone.now() + timedelta(seconds=1),
            error="Time limit of one task reached; continuing.",
        )
        raise self.retry(countdown=1, max_retries=None) from None
    except (RetryableError, IntegrityError, OperationalError) as error:
        retries = self.request.retries
        message = str(error) if isinstance(error, RetryableError) else type(error).__name__
        logger.warning(
            "integrations: sync run %s: %s; retrying",
            run_id,
            message,
            exc_info=not isinstance(error, RetryableError),
        )
        if retries >= MAX_RETRIES:
            sync_run_fail(run_id=run_id, error=f"Gave up after {retries} retries: {message}")
            return
        countdown = backoff_seconds(retries, base=2.0, cap=600.0)
        retry_at = getattr(error, "retry_at", None)
        if retry_at is not None:
            countdown = max(countdown, retry_at - time.time())
        countdown = max(1.0, countdown)
        sync_run_wait(
            run_id=run_id, until=timezone.now() + timedelta(seconds=countdown), error=message
        )
        raise self.retry(countdown=countdown) from None
    except Exception as error:
        sync_run_fail(run_id=run_id, error=f"Unexpected error: {type(error).__name__}")
        raise


@shared_task(name=queue.SYNC_TICK, ignore_result=True)
def sync_tick() -> dict:
    """Every minute (beat): queue the due scheduled runs, take up the stale ones."""
    due = sync_runs_enqueue_due()
    stale = sync_runs_requeue_stale()
    return {"queued": len(due), "requeued": len(stale)}
