"""Sync conflicts: a contact or product changed on both sides since the last sync.

The pull records them (`sync_conflicts_record`, neither side is written) and a person
resolves them (`sync_conflict_resolve`, admin): the accounting system's values are then
applied by the next sync, and the record's own history keeps ours.
"""

from decimal import Decimal

from django.db import transaction

from integrations.models import Connection, RemoteKind, SyncConflict
from records.models import Contact, Product

from .links import link_forget_remote_version

CONFLICT_MESSAGE = "Changed on both sides since the last sync; left for a person."


def _plain(value):
    """A value as JSON keeps it (Decimal as its exact string)."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def sync_conflicts_record(
    *, connection: Connection, kind: str, conflicts: list[tuple]
) -> list[str]:
    """Record each `(local record, remote id, remote fields)` for a person, once while
    one is open for that record. Returns the remote ids newly recorded."""
    if not conflicts:
        return []
    open_ = set(
        SyncConflict.objects.filter(
            connection=connection,
            kind=kind,
            resolved_at__isnull=True,
            local_id__in=[local.pk for local, _, _ in conflicts],
        ).values_list("local_id", flat=True)
    )
    new = []
    for local, remote_id, fields in conflicts:
        if local.pk in open_:
            continue
        names = [name for name in fields if name != "tax_rate"]
        new.append(
            SyncConflict(
                connection=connection,
                kind=kind,
                local_id=local.pk,
                remote_id=remote_id,
                local_values={n: _plain(getattr(local, n)) for n in names},
                remote_values={n: _plain(fields[n]) for n in names},
            )
        )
    SyncConflict.objects.bulk_create(new, ignore_conflicts=True)
    return [conflict.remote_id for conflict in new]


@transaction.atomic
def sync_conflict_resolve(*, conflict: SyncConflict, by=None) -> SyncConflict:
    """A person resolved a conflict: the record's link forgets the remote version and
    takes our current version as seen, so the next sync applies the accounting system's
    values (the record's own history keeps ours). Idempotent."""
    conflict = SyncConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.resolved_at is not None:
        return conflict
    model = {RemoteKind.CONTACT: Contact, RemoteKind.PRODUCT: Product}.get(conflict.kind)
    local = model.objects.filter(pk=conflict.local_id).first() if model else None
    link_forget_remote_version(
        connection_id=conflict.connection_id,
        kind=conflict.kind,
        local_id=conflict.local_id,
        local_version=getattr(local, "version", None),
    )
    SyncConflict.objects.filter(pk=conflict.pk).resolve(by=by)
    conflict.refresh_from_db()
    return conflict
