"""Sync writes of contacts and products: whole batches from the accounting system.

The sync engine (integrations) writes its batches through these: rows are locked,
validated and written in bulk (`project.db.bulk`), with their ChangeRecords, in a few
queries per batch whatever its size. One outcome per row, in order: a row that fails
(invalid values, a unique value in use, changed here meanwhile) fails alone.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from project.db import bulk
from records.models import ChangeAction, Contact, Interface, Product

from .contacts import CONTACT_FIELDS, validate_contact
from .fields import as_stored, check_fields, set_fields
from .history import record_changes, snapshot
from .products import PRODUCT_FIELDS, validate_product


class SyncAction:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"  # the record changed here since the caller read it: not written
    FAILED = "failed"  # invalid values: not written, `errors` says why


@dataclass
class SyncRow:
    """One record as the accounting system has it.

    `fields`: the values to hold (CONTACT_FIELDS or PRODUCT_FIELDS names). `record`: the
    record they belong to (None: create one). `expected_version`: the record's version
    the caller decided on; a record that moved on since is left alone (`stale`).
    """

    fields: dict
    record: models.Model | None = None
    expected_version: int | None = None


@dataclass
class SyncOutcome:
    action: str
    record: models.Model | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def _sync_upsert(
    model, rows: list[SyncRow], *, allowed, unique_field: str, validate, by, via
) -> list[SyncOutcome]:
    for row in rows:
        check_fields(row.fields, allowed)
    pks = sorted({row.record.pk for row in rows if row.record is not None})
    rows_locked = model.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    locked = {obj.pk: obj for obj in rows_locked}
    wanted = {row.fields[unique_field] for row in rows if row.fields.get(unique_field)}
    taken = model.objects.filter(**{f"{unique_field}__in": wanted})
    owners = dict(taken.values_list(unique_field, "pk"))
    claimed: dict[str, object] = {}
    outcomes, creates, updates, history = [], [], [], []
    now = timezone.now()
    for row in rows:
        if row.record is not None:
            obj = locked.get(row.record.pk)
            if obj is None:
                gone = {"non_field_errors": ["Deleted here meanwhile."]}
                outcomes.append(SyncOutcome(SyncAction.FAILED, None, gone))
                continue
            if row.expected_version is not None and obj.version != row.expected_version:
                outcomes.append(SyncOutcome(SyncAction.STALE, obj))
                continue
            changes = set_fields(obj, row.fields)
        else:
            obj = model(**row.fields)
            changes = snapshot(obj, allowed)
        errors = {}
        try:
            validate(obj)
        except ValidationError as exc:
            errors = exc.message_dict
        value = getattr(obj, unique_field)
        owner = owners.get(value, obj.pk)
        if owner != obj.pk or claimed.get(value, obj.pk) != obj.pk:
            errors.setdefault(unique_field, ["This value is already in use."])
        if errors:
            if row.record is not None:
                locked.pop(obj.pk)  # its in-memory values are not to be written
            outcomes.append(SyncOutcome(SyncAction.FAILED, row.record, errors))
            continue
        claimed[value] = obj.pk
        changes = as_stored(obj, changes)
        if row.record is None:
            creates.append(obj)
            history.append((obj, ChangeAction.CREATE, changes))
            outcomes.append(SyncOutcome(SyncAction.CREATED, obj))
        elif changes:
            obj.version += 1
            obj.updated_at = now
            updates.append(obj)
            history.append((obj, ChangeAction.UPDATE, changes))
            outcomes.append(SyncOutcome(SyncAction.UPDATED, obj))
        else:
            outcomes.append(SyncOutcome(SyncAction.UNCHANGED, obj))
    names = [model._meta.get_field(n).name for n in allowed]
    bulk.insert(model, creates)
    bulk.update(model, updates, [*names, "version", "updated_at"])
    record_changes(model, history, by=by, via=via)
    return outcomes


@transaction.atomic
def contacts_upsert_from_sync(
    *, rows: list[SyncRow], by=None, via=Interface.SYNC
) -> list[SyncOutcome]:
    """Create and update many contacts at once; one outcome per row, in order.

    A row whose values are invalid (no name, a customer number in use) fails alone; the
    others are written. Customer numbers come with the rows (the accounting system's).
    """
    return _sync_upsert(
        Contact,
        rows,
        allowed=CONTACT_FIELDS,
        unique_field="customer_number",
        validate=lambda contact: validate_contact(contact, unique=False),
        by=by,
        via=via,
    )


@transaction.atomic
def products_upsert_from_sync(
    *, rows: list[SyncRow], by=None, via=Interface.SYNC
) -> list[SyncOutcome]:
    """Create and update many products at once (`tax_rate` given as a TaxRate)."""
    return _sync_upsert(
        Product,
        rows,
        allowed=PRODUCT_FIELDS,
        unique_field="sku",
        validate=lambda product: validate_product(product, unique=False),
        by=by,
        via=via,
    )
