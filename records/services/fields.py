"""Field values into records: resolving ids, assigning what changed, validating, saving.

`UNSET` is the default of every optional argument of an update service: a field not
given stays as it is (None is a value). `record_update` is the update of contacts and
products: lock, assign, validate, save, record. Invoice and payment dates lie between
`DATE_MIN` and `DATE_MAX` (`check_date`), so date arithmetic never overflows.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from records.models import ChangeAction

from .history import bump, json_value, locked, record_change


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()
"""An argument that was not given (the field stays)."""


DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)


def check_date(value, key: str, errors: dict) -> bool:
    """Whether `value` (a date) lies in DATE_MIN..DATE_MAX; a field error under `key` if not."""
    if isinstance(value, dt.date) and not DATE_MIN <= value <= DATE_MAX:
        errors[key] = [f"Give a date between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}."]
        return False
    return True


def given(**values) -> dict:
    """The keyword values that are not `UNSET`."""
    return {name: value for name, value in values.items() if value is not UNSET}


def check_fields(fields: dict, allowed: Iterable[str]) -> None:
    """A dict of field values (a line, a sync row) names only `allowed` fields."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")


def as_uuid(value) -> uuid.UUID | None:
    """A UUID from a UUID, its string or a model instance; None if it is none of those."""
    if isinstance(value, models.Model):
        value = value.pk
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def resolve(model, value, field: str):
    """An instance of `model` from an instance or a primary key; a field error if unknown."""
    if isinstance(value, model):
        return value
    pk = as_uuid(value) if value is not None else None
    found = model.objects.filter(pk=pk).first() if pk else None
    if found is None:
        raise ValidationError({field: [f"Unknown {model._meta.verbose_name}."]})
    return found


def set_fields(obj, values: dict) -> dict:
    """Assign the values that differ; returns their `{field: [old, new]}`."""
    changes = {}
    for name, value in values.items():
        if value is UNSET:
            continue
        field = obj._meta.get_field(name)
        if field.is_relation:
            old = getattr(obj, field.attname)
            if old != getattr(value, "pk", value):
                setattr(obj, name, value)
                changes[name] = [json_value(old), json_value(value)]
        elif getattr(obj, name) != value:
            changes[name] = [json_value(getattr(obj, name)), json_value(value)]
            setattr(obj, name, value)
    return changes


def as_stored(obj, changes: dict) -> dict:
    """`changes` with the new values as validation left them (it normalizes: a country
    code upper-cased, text stripped), without the ones that turned out unchanged."""
    result = {}
    for name, (old, _new) in changes.items():
        field = obj._meta.get_field(name)
        new = json_value(getattr(obj, field.attname if field.is_relation else name))
        if new != old:
            result[name] = [old, new]
    return result


def clean(obj, exclude: Iterable[str] = (), *, unique: bool = True) -> None:
    """Field validators and unique checks of the model (constraints are checked by hand
    with their own field names, and by the database). Bulk writes pass `unique=False`
    and check uniqueness for all their rows in one query."""
    obj.full_clean(exclude=list(exclude), validate_unique=unique, validate_constraints=False)


def save_unique(obj, **kwargs) -> None:
    """Save; a unique clash that slipped past validation (a race) is a field error."""
    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError as exc:
        names = [f.name for f in obj._meta.fields if f.unique and not f.primary_key]
        unique = [name for name in names if name in str(exc)]
        field = unique[0] if unique else "non_field_errors"
        raise ValidationError({field: ["This value is already in use."]}) from exc


def record_update(
    model, obj, values: dict, *, validate: Callable, expected_version: int | None, by, via
):
    """The update of a contact or a product: the row locked (StaleVersion if it moved on),
    the given `values` assigned, validated, and when something changed: the version
    bumped, saved (a unique clash is a field error) and the change recorded."""
    obj = locked(model, obj, expected_version)
    changes = set_fields(obj, values)
    validate(obj)
    if changes:
        bump(obj, changes)
        save_unique(obj)
        record_change(obj, ChangeAction.UPDATE, changes, by=by, via=via)
    return obj
