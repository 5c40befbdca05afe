"""Reads: connections (with their open issues), sync runs, and a connection's credentials.

Who may read connections and sync runs at all is a model permission (`view_connection`,
`view_syncrun`); every reader sees every row, so these take no viewer.
"""

import json
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from . import crypto
from .models import Connection, ConnectionIssue, SyncRun


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials; the repr never shows them."""

    api_token: str = field(repr=False)


def open_issues() -> QuerySet[ConnectionIssue]:
    return ConnectionIssue.objects.filter(resolved_at__isnull=True)


def connection_list() -> QuerySet[Connection]:
    """Connections with their open issues (`open_issue_list`). Who may read them at all
    is the `view_connection` permission; every reader sees every connection."""
    return Connection.objects.prefetch_related(
        Prefetch(
            "issues", queryset=open_issues().order_by("-created_at"), to_attr="open_issue_list"
        )
    )


def connection_find(*, provider: str, base_url: str, administration_id: str) -> Connection | None:
    """The connection to that administration, if there is one (they are unique)."""
    return Connection.objects.filter(
        provider=provider, base_url=base_url, administration_id=administration_id
    ).first()


def sync_run_list() -> QuerySet[SyncRun]:
    """Sync runs, newest first. Who may read them is `view_syncrun` (every role)."""
    return SyncRun.objects.select_related("started_by", "connection")


def connection_credentials(connection: Connection) -> Credentials | None:
    """The decrypted credentials, or None when none are stored (erased on delete).

    Raises `crypto.DecryptionError` when no configured key opens them.
    """
    if not connection.encrypted_credentials:
        return None
    data = json.loads(crypto.decrypt(connection.encrypted_credentials))
    return Credentials(api_token=data["api_token"])
