"""One outbox item's life: claimed by a worker, then succeeded, waiting for a retry,
failed, or paused with its connection. The push runner (`integrations.sync.push`) calls
these around the provider call it makes outside any transaction.

- `outbox_item_claim` (a short transaction, row lock): pending and due, or in progress
  with an expired lease (its worker died: the outcome of that attempt is unknown); every
  earlier item of its group succeeded; its connection is active (else it is paused).
  Claiming sets the lease and counts the attempt.
- `outbox_item_succeed`: the `ExternalLink` and the item's `succeeded` in one
  transaction, so a link exists exactly when the item says so; the next item of the
  group is handed on.
- `outbox_item_retry_later` (a `RetryableError`): back to pending with `next_attempt_at`
  (backoff with jitter, or the provider's `Retry-After` / the shared budget's pause,
  whichever is later); after `INTEGRATIONS_PUSH_MAX_ATTEMPTS`: failed.
- `outbox_item_fail` (a `RecordError`: 400/404/422): failed with the provider's message;
  the person who asked is emailed; other groups carry on.
- `outbox_item_needs_attention` (401/402/403, credentials): the connection is marked and
  its open items paused (`connection_needs_attention`).

The invoice's accounting summary (`records.services.invoice_set_accounting_state`) is
written with each outcome of the invoice's items.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations import queue
from integrations.models import Connection, ConnectionStatus, OutboxItem, OutboxStatus
from integrations.providers.base import (
    NeedsAttentionError,
    NetworkError,
    ProviderTimeout,
    RetryableError,
    ServerError,
    UnexpectedResponse,
    backoff_seconds,
)
from records.models import AccountingStatus

from .issues import connection_needs_attention
from .links import link_set
from .outbox import accounting_state_set, blocked_q, outbox_dispatch

logger = logging.getLogger(__name__)

# Errors after which a write may have happened at the provider without our knowing.
UNKNOWN_OUTCOME = (NetworkError, ProviderTimeout, ServerError, UnexpectedResponse)


@dataclass(frozen=True)
class RunResult:
    """What happened to one item; `retry_in` (seconds) when the task should retry."""

    status: str
    retry_in: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What a push learned: the link to write and the invoice state it leaves."""

    link_kind: str | None = None
    local_id: object = None
    remote_id: str | None = None
    remote_version: int | None = None
    local_version: int | None = None
    invoice_state: dict | None = None


def outbox_item_claim(*, item_id, now: datetime) -> OutboxItem | None:
    """The item, claimed for this worker (its `connection` loaded), or None when there
    is nothing to do: done, held by another worker, early, blocked, or paused now."""
    with transaction.atomic():
        item = (
            OutboxItem.objects.select_for_update(of=("self",))
            .select_related("connection")
            .filter(pk=item_id)
            .first()
        )
        if item is None:
            return None
        if item.status == OutboxStatus.IN_PROGRESS:
            if item.lease_until and item.lease_until > now:
                return None  # another worker holds it
            item.outcome_unknown = True  # its worker died mid-attempt
        elif item.status != OutboxStatus.PENDING:
            return None
        elif item.next_attempt_at and item.next_attempt_at > now + timedelta(seconds=1):
            return None  # early: the scheduled retry will come
        if OutboxItem.objects.filter(pk=item.pk).filter(blocked_q()).exists():
            return None  # the earlier item hands this one on when it succeeds
        connection = Connection.objects.select_for_update().get(pk=item.connection_id)
        if connection.status != ConnectionStatus.ACTIVE:
            item.status = OutboxStatus.PAUSED
            item.lease_until = None
            item.save(update_fields=["status", "lease_until", "outcome_unknown", "updated_at"])
            if item.invoice_id:
                accounting_state_set(
                    item.invoice_id,
                    status=AccountingStatus.PAUSED,
                    last_error="The accounting connection needs attention.",
                )
            return None
        item.status = OutboxStatus.IN_PROGRESS
        item.attempts += 1
        item.lease_until = now + timedelta(seconds=settings.INTEGRATIONS_PUSH_LEASE_SECONDS)
        item.save(
            update_fields=["status", "attempts", "lease_until", "outcome_unknown", "updated_at"]
        )
        item.connection = connection
        return item


def _locked(item: OutboxItem) -> OutboxItem:
    return OutboxItem.objects.select_for_update().get(pk=item.pk)


def outbox_item_succeed(*, item: OutboxItem, outcome: Outcome) -> RunResult:
    """Record the push: its link, the item succeeded, the invoice's state; hand on the
    next item of the group."""
    now = timezone.now()
    with transaction.atomic():
        current = _locked(item)
        if outcome.link_kind is not None:
            link_set(
                connection=item.connection,
                kind=outcome.link_kind,
                local_id=outcome.local_id,
                remote_id=outcome.remote_id,
                remote_version=outcome.remote_version,
                local_version=outcome.local_version,
            )
        # Even if the item was paused meanwhile: the write happened.
        current.status = OutboxStatus.SUCCEEDED
        current.completed_at = now
        current.lease_until = None
        current.next_attempt_at = None
        current.outcome_unknown = False
        current.last_error = ""
        current.save(
            update_fields=[
                "status",
                "completed_at",
                "lease_until",
                "next_attempt_at",
                "outcome_unknown",
                "last_error",
                "updated_at",
            ]
        )
        Connection.objects.filter(pk=item.connection_id).update(last_pushed_at=now)
        if outcome.invoice_state and item.invoice_id:
            accounting_state_set(item.invoice_id, **outcome.invoice_state)
        following = (
            OutboxItem.objects.filter(
                group=item.group, position__gt=item.position, status=OutboxStatus.PENDING
            )
            .order_by("position")
            .values_list("pk", flat=True)
            .first()
        )
        if following is not None:
            outbox_dispatch([following])
    logger.info("push: item %s (%s) succeeded", item.pk, item.kind)
    return RunResult(status=OutboxStatus.SUCCEEDED)


def outbox_item_retry_later(*, item: OutboxItem, error: RetryableError) -> RunResult:
    """Back to pending until the backoff (or the provider's `retry_at`) has passed;
    failed once `INTEGRATIONS_PUSH_MAX_ATTEMPTS` attempts were made."""
    now = timezone.now()
    delay = backoff_seconds(max(0, item.attempts - 1))
    if error.retry_at is not None:
        delay = max(delay, error.retry_at - now.timestamp())
    delay = max(delay, 0.1)
    if item.attempts >= settings.INTEGRATIONS_PUSH_MAX_ATTEMPTS:
        return outbox_item_fail(
            item=item, message=f"Gave up after {item.attempts} attempts: {error}"
        )
    with transaction.atomic():
        current = _locked(item)
        if current.status != OutboxStatus.IN_PROGRESS or current.attempts != item.attempts:
            return RunResult(status=current.status)  # taken over (paused, or another lease)
        current.status = OutboxStatus.PENDING
        current.lease_until = None
        current.next_attempt_at = now + timedelta(seconds=delay)
        current.outcome_unknown = current.outcome_unknown or isinstance(error, UNKNOWN_OUTCOME)
        current.last_error = str(error)
        current.save(
            update_fields=[
                "status",
                "lease_until",
                "next_attempt_at",
                "outcome_unknown",
                "last_error",
                "updated_at",
            ]
        )
    logger.info("push: item %s (%s) retries in %.1fs: %s", item.pk, item.kind, delay, error)
    return RunResult(status=OutboxStatus.PENDING, retry_in=delay)


def outbox_item_fail(*, item: OutboxItem, message: str) -> RunResult:
    """Failed for good with `message`; the person who asked for it is emailed."""
    with transaction.atomic():
        current = _locked(item)
        current.status = OutboxStatus.FAILED
        current.lease_until = None
        current.next_attempt_at = None
        current.last_error = message
        current.completed_at = timezone.now()
        current.save(
            update_fields=[
                "status",
                "lease_until",
                "next_attempt_at",
                "last_error",
                "completed_at",
                "updated_at",
            ]
        )
        if item.invoice_id:
            accounting_state_set(
                item.invoice_id, status=AccountingStatus.FAILED, last_error=message
            )
        queue.enqueue(queue.PUSH_FAILED_EMAIL, str(current.pk))
    logger.warning("push: item %s (%s) failed: %s", item.pk, item.kind, message)
    return RunResult(status=OutboxStatus.FAILED)


def outbox_item_needs_attention(*, item: OutboxItem, error: NeedsAttentionError) -> RunResult:
    """The connection needs a person: it is marked, its open items (this one too) are
    paused until it is reactivated."""
    with transaction.atomic():
        paused = connection_needs_attention(connection=item.connection, error=error)
        OutboxItem.objects.filter(pk=item.pk).update(last_error=str(error))
    logger.warning(
        "push: connection %s needs attention (%s); %d item(s) paused",
        item.connection_id,
        type(error).__name__,
        paused,
    )
    return RunResult(status=OutboxStatus.PAUSED)
