"""Integrations models: connections (and their issues), and what syncing keeps per connection.

- `connections`: Connection, ConnectionIssue.
- `sync`: ExternalLink (our object <-> the provider's id and version), OutboxItem (a push
  waiting to happen), SyncRun (a pull that staff trigger and watch), SyncConflict (a record
  changed on both sides, left for a person).
"""

from .connections import (
    Connection,
    ConnectionIssue,
    ConnectionStatus,
    IssueKind,
    Provider,
)
from .sync import (
    ExternalLink,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    RemoteKind,
    SyncConflict,
    SyncRun,
    SyncRunStatus,
    SyncTrigger,
)

__all__ = [
    "Connection",
    "ConnectionIssue",
    "ConnectionStatus",
    "ExternalLink",
    "IssueKind",
    "OutboxItem",
    "OutboxKind",
    "OutboxStatus",
    "Provider",
    "RemoteKind",
    "SyncConflict",
    "SyncRun",
    "SyncRunStatus",
    "SyncTrigger",
]
