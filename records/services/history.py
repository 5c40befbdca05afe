"""What every records write shares: the errors, row locks and the change history.

Each service locks the rows it changes (`locked`), raises `Conflict` when the row's state
forbids the write and `StaleVersion` for a stale `expected_version`, and records a
`ChangeRecord` (`record_change`, or `record_changes` for a batch) in its transaction.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.deletion import ProtectedError

from project.db import bulk
from project.errors import Conflict, StaleVersion
from records.models import ChangeAction, ChangeRecord, Interface

__all__ = [
    "Conflict",
    "StaleVersion",
    "actor",
    "bump",
    "delete_recorded",
    "json_value",
    "locked",
    "record_change",
    "record_changes",
    "snapshot",
]


def json_value(value):
    """A field's value as `ChangeRecord.changes` holds it (decimals, dates, ids as text)."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def actor(by):
    """The user to record as the actor (None for anonymous or no user)."""
    return by if getattr(by, "is_authenticated", False) else None


def record_change(obj, action: ChangeAction, changes: dict, *, by, via, pk=None) -> ChangeRecord:
    return ChangeRecord.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=pk or obj.pk,
        action=action,
        actor=actor(by),
        via=Interface(via),
        changes=changes,
    )


def record_changes(model, history: list[tuple], *, by, via) -> None:
    """The ChangeRecords of `history` (`(obj, action, changes)`, in order) in bulk."""
    if not history:
        return
    content_type = ContentType.objects.get_for_model(model)
    who, via = actor(by), Interface(via)
    records = [
        ChangeRecord(
            content_type=content_type,
            object_id=obj.pk,
            action=action,
            actor=who,
            via=via,
            changes=changes,
        )
        for obj, action, changes in history
    ]
    bulk.insert(ChangeRecord, records)


def locked(model, obj, expected_version: int | None):
    """The row of `obj`, locked for this transaction; StaleVersion if it moved on."""
    row = model.objects.select_for_update().get(pk=obj.pk)
    if expected_version is not None and row.version != expected_version:
        raise StaleVersion
    return row


def snapshot(obj, names: Iterable[str]) -> dict:
    """`{field: [None, value]}` of `names`: the changes of a created record."""
    result = {}
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname if field.is_relation else name)
        result[name] = [None, json_value(value)]
    return result


def bump(obj, changes: dict) -> None:
    if changes:
        obj.version += 1


def delete_recorded(obj, *, by, via, what: str) -> None:
    """Delete `obj` and record its last values; `Conflict` while rows still refer to it."""
    values = snapshot(obj, [f.name for f in obj._meta.concrete_fields if f.name != "id"])
    pk = obj.pk
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise Conflict(f"This {what} is still in use and cannot be deleted.") from exc
    changes = {name: [value[1], None] for name, value in values.items()}
    record_change(obj, ChangeAction.DELETE, changes, by=by, via=via, pk=pk)
