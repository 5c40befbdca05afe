"""Every write of the integrations app, one module per topic:

- `connections`: validate, create, change, disable a connection.
- `credentials`: check a connection's credentials against the provider; rotate keys.
- `issues`: problems a person must resolve (a connection needs attention).
- `outbox`: what is to be pushed (written with its cause), paused, resumed, swept.
- `outbox_items`: one item's claim and outcome around the push runner's provider call.
- `sync_runs`: a pull's run: start (one active per connection), claim, progress, finish.
- `links`: which remote id our object has on a connection.
- `conflicts`: records changed on both sides, recorded and resolved.

Interfaces (API, admin, tasks, management commands) call these and the selectors; the
runners in `integrations.sync` call them around the provider's calls. Work for a worker
is enqueued through `integrations.queue`, never by importing a task. The public names
are importable from `integrations.services`.
"""

from .conflicts import sync_conflict_resolve, sync_conflicts_record
from .connections import (
    API_TOKEN_MAX_LENGTH,
    UNIQUE_MESSAGE,
    connection_create,
    connection_disable,
    connection_update,
    connection_validate,
)
from .credentials import (
    NEEDS_PERSON,
    PERMANENT,
    RETRYABLE,
    ConnectionCheck,
    RotationResult,
    connection_test,
    credentials_rotate,
    error_kind,
)
from .issues import (
    connection_issue_resolve,
    connection_needs_attention,
    connection_report_issue,
    issue_kind_for,
    issues_resolve_open,
)
from .outbox import (
    NotSendable,
    invoice_enqueue,
    invoice_send,
    on_invoice_finalized,
    on_payment_registered,
    outbox_pause,
    outbox_resume,
    outbox_retry_now,
    outbox_sweep,
)
from .sync_runs import (
    ConnectionNotActive,
    RunTakenOver,
    SyncAlreadyRunning,
    sync_run_create,
    sync_run_fail,
    sync_run_finish,
    sync_run_start,
    sync_run_wait,
    sync_runs_enqueue_due,
    sync_runs_requeue_stale,
)

__all__ = [
    "API_TOKEN_MAX_LENGTH",
    "NEEDS_PERSON",
    "PERMANENT",
    "RETRYABLE",
    "UNIQUE_MESSAGE",
    "ConnectionCheck",
    "ConnectionNotActive",
    "NotSendable",
    "RotationResult",
    "RunTakenOver",
    "SyncAlreadyRunning",
    "connection_create",
    "connection_disable",
    "connection_issue_resolve",
    "connection_needs_attention",
    "connection_report_issue",
    "connection_test",
    "connection_update",
    "connection_validate",
    "credentials_rotate",
    "error_kind",
    "invoice_enqueue",
    "invoice_send",
    "issue_kind_for",
    "issues_resolve_open",
    "on_invoice_finalized",
    "on_payment_registered",
    "outbox_pause",
    "outbox_resume",
    "outbox_retry_now",
    "outbox_sweep",
    "sync_conflict_resolve",
    "sync_conflicts_record",
    "sync_run_create",
    "sync_run_fail",
    "sync_run_finish",
    "sync_run_start",
    "sync_run_wait",
    "sync_runs_enqueue_due",
    "sync_runs_requeue_stale",
]
