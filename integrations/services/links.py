"""ExternalLinks: which remote id (and version) our object has on a connection.

The push runner reads one link at a time and writes it with the item's outcome
(`link_set`); the pull runner reads and writes a batch's links at once (`link_states`,
`links_save`) and marks the ids that disappeared there (`links_mark_gone`).
"""

from collections.abc import Iterable
from typing import NamedTuple

from django.utils import timezone

from integrations.models import Connection, ExternalLink, RemoteKind
from project.db import bulk


def link_get(*, connection: Connection, kind: RemoteKind, local_id) -> ExternalLink | None:
    return ExternalLink.objects.filter(connection=connection, kind=kind, local_id=local_id).first()


def links_by_remote_id(
    *, connection: Connection, kind: RemoteKind, remote_ids: Iterable[str] | None = None
) -> dict[str, ExternalLink]:
    """The links of `kind` on `connection` keyed by remote id (all of them by default)."""
    links = ExternalLink.objects.filter(connection=connection, kind=kind)
    if remote_ids is not None:
        links = links.filter(remote_id__in=list(remote_ids))
    return {link.remote_id: link for link in links}


def link_set(
    *,
    connection: Connection,
    kind: RemoteKind,
    local_id,
    remote_id: str,
    remote_version: int | None,
    local_version: int | None = None,
) -> ExternalLink:
    """Create or update the link of our object (idempotent; the remote id may change only
    from nothing to something, which the unique constraints enforce)."""
    link, _ = ExternalLink.objects.update_or_create(
        connection=connection,
        kind=kind,
        local_id=local_id,
        defaults={
            "remote_id": remote_id,
            "remote_version": remote_version,
            "local_version": local_version,
            "remote_deleted_at": None,
            "synced_at": timezone.now(),
        },
    )
    return link


def linked_local_ids(*, connection: Connection, kind: RemoteKind, local_ids: Iterable) -> set:
    """Which of `local_ids` have a link of `kind` on `connection`."""
    return set(
        ExternalLink.objects.filter(
            connection=connection, kind=kind, local_id__in=list(local_ids)
        ).values_list("local_id", flat=True)
    )


class LinkState(NamedTuple):
    """What the pull reads of a link (a tuple: no model instance per row)."""

    remote_id: str
    local_id: object
    remote_version: int | None
    local_version: int | None
    remote_deleted_at: object


def link_states(
    *, connection: Connection, kind: RemoteKind, remote_ids: Iterable[str] | None = None
) -> dict[str, LinkState]:
    """`links_by_remote_id` as `LinkState` tuples (the pull reads thousands of them);
    given ids are looked up one index probe each (`project.db.bulk.select`)."""
    if remote_ids is None:
        links = ExternalLink.objects.filter(connection=connection, kind=kind)
        rows = links.values_list(*LinkState._fields)
    else:
        rows = bulk.select(
            ExternalLink,
            LinkState._fields,
            key="remote_id",
            values=remote_ids,
            where={"connection": connection, "kind": kind},
        )
    return {row[0]: LinkState._make(row) for row in rows}


_COLUMNS = [
    "connection_id",
    "kind",
    "local_id",
    "remote_id",
    "remote_version",
    "local_version",
    "synced_at",
    "remote_deleted_at",
]
_UPDATED = ["local_id", "remote_version", "local_version", "synced_at", "remote_deleted_at"]


def links_save(*, connection: Connection, kind: RemoteKind, values: list[tuple]) -> None:
    """Create or update links from `(local_id, remote_id, remote_version, local_version)`
    in one INSERT ... ON CONFLICT (connection, kind, remote id) DO UPDATE
    (`project.db.bulk.upsert`)."""
    if not values:
        return
    now = timezone.now()
    bulk.upsert(
        ExternalLink,
        _COLUMNS,
        [(connection.pk, kind, *value, now, None) for value in values],
        unique=["connection", "kind", "remote_id"],
        update=_UPDATED,
    )


def links_mark_gone(*, connection: Connection, kind: RemoteKind, remote_ids: Iterable[str]) -> int:
    """Mark the links of these remote ids deleted there (`remote_deleted_at`; our records
    stay). Returns how many were not marked before."""
    return ExternalLink.objects.filter(
        connection=connection,
        kind=kind,
        remote_id__in=list(remote_ids),
        remote_deleted_at__isnull=True,
    ).update(remote_deleted_at=timezone.now())


def link_forget_remote_version(*, connection_id, kind: str, local_id, local_version) -> None:
    """The link of our record forgets the remote version and takes `local_version` as
    seen: the next pull applies the accounting system's values (a resolved conflict)."""
    ExternalLink.objects.filter(connection=connection_id, kind=kind, local_id=local_id).update(
        remote_version=None, local_version=local_version
    )
