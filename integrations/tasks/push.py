"""Tasks that push the outbox to the accounting system (the runner: integrations.sync.push).

Thin: each loads by id and calls one function. `push_item` retries through Celery's
`retry` with the countdown the runner computed (backoff with jitter, or the provider's
`Retry-After`); it is idempotent, since the runner claims the item under a row lock and
does nothing for an item that is done, held by another worker or not due. Services
enqueue these by name (`integrations.queue`).
"""

from celery import shared_task
from django.conf import settings

from integrations import emails, queue
from integrations.services import outbox_sweep
from integrations.sync.push import outbox_item_run
from project.tasks import email_task


@shared_task(bind=True, name=queue.PUSH_ITEM, max_retries=None, ignore_result=True)
def push_item(self, item_id: str) -> None:
    """Push one outbox item; retry later when the provider asks us to."""
    result = outbox_item_run(item_id=item_id)
    if result is not None and result.retry_in is not None:
        raise self.retry(countdown=result.retry_in, queue=settings.INTEGRATIONS_PUSH_QUEUE or None)


@shared_task(name=queue.PUSH_SWEEP, ignore_result=True)
def push_sweep() -> int:
    """Every minute (beat): dispatch the outbox items that are due and were missed."""
    return len(outbox_sweep())


@email_task(queue.PUSH_FAILED_EMAIL)
def send_push_failed_email(item_id: str) -> None:
    """Tell the person who asked for a push that it failed for good."""
    emails.push_failed_email_send(item_id=item_id)


@email_task(queue.CONNECTION_ATTENTION_EMAIL)
def send_connection_attention_email(connection_id: str, issue_id: str) -> None:
    """Tell the Administrators that a connection needs attention."""
    emails.connection_attention_email_send(connection_id=connection_id, issue_id=issue_id)
