"""Connection issues: problems a person must resolve (a bad token, a missing scope, a
plan limit). Reporting one marks an active connection needs-attention; reactivating the
connection (`connection_update`) resolves its open issues.
"""

import logging

from django.db import transaction

from integrations import clients, queue
from integrations.models import Connection, ConnectionIssue, ConnectionStatus, IssueKind
from integrations.providers.base import (
    AuthenticationFailed,
    MissingScope,
    NeedsAttentionError,
    PaymentRequired,
)

from .outbox import outbox_pause

logger = logging.getLogger(__name__)


def issue_kind_for(error: NeedsAttentionError) -> str:
    """The issue kind a needs-attention error is recorded under."""
    if isinstance(error, MissingScope):
        return IssueKind.MISSING_SCOPE
    if isinstance(error, AuthenticationFailed):
        return IssueKind.AUTHENTICATION
    if isinstance(error, PaymentRequired):
        return IssueKind.PLAN_LIMIT
    if isinstance(error, clients.CredentialsUnreadable | clients.MissingCredentials):
        return IssueKind.CREDENTIALS
    return IssueKind.CONFIGURATION


@transaction.atomic
def connection_report_issue(*, connection: Connection, kind: str, message: str) -> ConnectionIssue:
    """Record a problem a person must resolve and mark an active connection
    needs-attention. A repeat of an open issue of the same kind updates its message."""
    current = Connection.objects.select_for_update().get(pk=connection.pk)
    if current.status == ConnectionStatus.ACTIVE:
        current.status = ConnectionStatus.NEEDS_ATTENTION
        current.save(update_fields=["status", "updated_at"])
    issue, created = ConnectionIssue.objects.update_or_create(
        connection=current, kind=kind, resolved_at=None, defaults={"message": message}
    )
    again = "" if created else ", again"
    logger.warning("integrations: connection %s needs attention (%s)%s", current.pk, kind, again)
    return issue


@transaction.atomic
def connection_needs_attention(*, connection: Connection, error: NeedsAttentionError) -> int:
    """A push met an error only a person can fix: the issue is recorded, the connection's
    open outbox items are paused, and the Administrators are emailed once (when the
    connection goes from active to needs attention). Returns how many items were paused."""
    message = str(error)
    current = Connection.objects.select_for_update().get(pk=connection.pk)
    was_active = current.status == ConnectionStatus.ACTIVE
    issue = connection_report_issue(connection=current, kind=issue_kind_for(error), message=message)
    paused = outbox_pause(connection=current, reason=message)
    if was_active:
        queue.enqueue(queue.CONNECTION_ATTENTION_EMAIL, str(current.pk), str(issue.pk))
    return paused


def issues_resolve_open(*, connection: Connection, by) -> int:
    """Resolve every open issue of `connection` (it was reactivated); returns how many."""
    return ConnectionIssue.objects.filter(connection=connection).resolve(by=by)


@transaction.atomic
def connection_issue_resolve(*, issue: ConnectionIssue, by=None) -> ConnectionIssue:
    """Mark one issue resolved (the connection's status is changed separately)."""
    ConnectionIssue.objects.filter(pk=issue.pk).resolve(by=by)
    issue.refresh_from_db()
    return issue
