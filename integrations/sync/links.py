"""ExternalLink reads and writes: which remote id our object has on a connection."""

from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection as db
from django.utils import timezone

from integrations.models import Connection, ExternalLink, RemoteKind


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
    *, connection: Connection, kind: RemoteKind, local_id, remote_id: str,
    remote_version: int | None, local_version: int | None = None,
) -> ExternalLink:  # fmt: skip
    """Create or update the link of our object (idempotent; the remote id may change only
    from nothing to something, which the unique constraints enforce)."""
    link, _ = ExternalLink.objects.update_or_create(
        connection=connection, kind=kind, local_id=local_id,
        defaults={
            "remote_id": remote_id, "remote_version": remote_version,
            "local_version": local_version, "remote_deleted_at": None,
            "synced_at": timezone.now(),
        },
    )  # fmt: skip
    return link


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
    """`links_by_remote_id` as `LinkState` tuples (the pull reads thousands of them).

    On PostgreSQL the ids are looked up one index probe each (a LATERAL join over the
    array of ids): `remote_id IN (...)` lets the planner scan every link of the kind
    and filter when the table's statistics are stale (a first sync filling it), which
    makes each batch slower than the one before."""
    if remote_ids is not None and db.vendor == "postgresql":
        return _link_states_by_id(connection, kind, list(remote_ids))
    links = ExternalLink.objects.filter(connection=connection, kind=kind)
    if remote_ids is not None:
        links = links.filter(remote_id__in=list(remote_ids))
    rows = links.values_list(*LinkState._fields)
    return {row[0]: LinkState._make(row) for row in rows}


def _link_states_by_id(connection: Connection, kind: RemoteKind, remote_ids: list[str]):
    if not remote_ids:
        return {}
    quote = db.ops.quote_name
    meta = ExternalLink._meta
    columns = ", ".join(f"l.{quote(meta.get_field(name).column)}" for name in LinkState._fields)
    remote_type = meta.get_field("remote_id").db_type(db)
    # Identifiers come from the model's meta and are quoted; every value is a parameter.
    sql = (
        f"SELECT {columns} FROM unnest(%s::{remote_type}[]) AS r(remote_id) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT * FROM {quote(meta.db_table)} AS x "
        "WHERE x.connection_id = %s AND x.kind = %s AND x.remote_id = r.remote_id LIMIT 1) AS l"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [remote_ids, connection.pk, str(kind)])
        return {row[0]: LinkState._make(row) for row in cursor.fetchall()}


_UPDATED = ["local_id", "remote_version", "local_version", "synced_at", "remote_deleted_at"]


def links_save(*, connection: Connection, kind: RemoteKind, values: list[tuple]) -> None:
    """Create or update links from `(local_id, remote_id, remote_version, local_version)`
    in one INSERT ... ON CONFLICT (connection, kind, remote id) DO UPDATE; on PostgreSQL
    the rows go as one array per column (`unnest`), not a model instance each."""
    if not values:
        return
    now = timezone.now()
    if db.vendor != "postgresql":
        links = [
            ExternalLink(
                connection=connection, kind=kind, local_id=local_id, remote_id=remote_id,
                remote_version=remote_version, local_version=local_version, synced_at=now,
                remote_deleted_at=None,
            )
            for local_id, remote_id, remote_version, local_version in values
        ]  # fmt: skip
        ExternalLink.objects.bulk_create(
            links, batch_size=1000, update_conflicts=True,
            unique_fields=["connection", "kind", "remote_id"], update_fields=_UPDATED,
        )  # fmt: skip
        return
    local_ids, remote_ids, remote_versions, local_versions = (
        list(column) for column in zip(*values, strict=True)
    )
    quote = db.ops.quote_name
    meta = ExternalLink._meta
    sets = ", ".join(
        f"{quote(meta.get_field(name).column)} = EXCLUDED.{quote(meta.get_field(name).column)}"
        for name in _UPDATED
    )
    columns = ("local_id", "remote_id", "remote_version", "local_version")
    types = [meta.get_field(name).db_type(db) for name in columns]
    # Identifiers come from the model's meta and are quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} (connection_id, kind, local_id, remote_id, "  # noqa: S608
        "remote_version, local_version, synced_at, remote_deleted_at) "
        "SELECT %s, %s, v.local_id, v.remote_id, v.remote_version, v.local_version, %s, NULL "
        f"FROM unnest(%s::{types[0]}[], %s::{types[1]}[], %s::{types[2]}[], %s::{types[3]}[]) "
        "AS v(local_id, remote_id, remote_version, local_version) "
        f"ON CONFLICT (connection_id, kind, remote_id) DO UPDATE SET {sets}"
    )
    with db.cursor() as cursor:
        cursor.execute(
            sql,
            [connection.pk, str(kind), now, local_ids, remote_ids, remote_versions,
             local_versions],
        )  # fmt: skip
