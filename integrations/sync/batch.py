"""What every batch of the pull shares: the counts it adds to its run, the links it
reads and writes, and its commit (the run's progress, in the batch's transaction).

`PullPass` is the base of the pull runner (`pull.Pull`); its batches are in `pull.py`
(tax rates, products, contacts) and `pull_invoices.py` (invoices and their payments).
"""

from dataclasses import dataclass, field

from integrations.models import Connection, RemoteKind, SyncRun
from integrations.providers.base import AccountingProvider
from integrations.services.links import LinkState, link_states, links_mark_gone, links_save
from integrations.services.sync_runs import sync_run_progress
from records.models import Interface

VIA = Interface.SYNC


def error_entry(kind: str, remote_id: str, message) -> dict:
    """One entry of a run's `errors` (a field dict is flattened into one message)."""
    if isinstance(message, dict):
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in message.items())
    return {"kind": kind, "remote_id": remote_id, "error": str(message)}


@dataclass
class Counts:
    """What one batch adds to its run."""

    done: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)

    def fail(self, kind, remote_id, message) -> None:
        self.failed += 1
        self.errors.append(error_entry(kind, remote_id, message))


class PullPass:
    """One pass over a connection for one run: its links and its commits."""

    def __init__(self, *, run: SyncRun, connection: Connection, client: AccountingProvider):
        self.run = run
        self.connection = connection
        self.client = client

    def _links(self, kind: RemoteKind, remote_ids=None) -> dict[str, LinkState]:
        return link_states(connection=self.connection, kind=kind, remote_ids=remote_ids)

    def _save_links(self, kind: RemoteKind, values: list[tuple]) -> None:
        """Create or update links from `(local_id, remote_id, remote_version,
        local_version)` in one INSERT ... ON CONFLICT (remote id) DO UPDATE."""
        links_save(connection=self.connection, kind=kind, values=values)

    def _mark_gone(self, kind: RemoteKind, remote_ids, counts: Counts) -> None:
        if remote_ids:
            counts.deleted += links_mark_gone(
                connection=self.connection, kind=kind, remote_ids=remote_ids
            )

    def _commit(self, counts: Counts, locked: SyncRun) -> None:
        sync_run_progress(
            run=self.run,
            locked=locked,
            done=counts.done,
            created=counts.created,
            updated=counts.updated,
            deleted=counts.deleted,
            failed=counts.failed,
            errors=counts.errors,
        )
