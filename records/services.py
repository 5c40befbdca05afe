"""Every write of the records app. Interfaces (API, admin, sync) call these and nothing else.

Conventions:
- keyword-only; `by` is the acting user (or None), `via` the interface (`Interface`);
  every write records a `ChangeRecord` in the same transaction;
- bad input raises `django.core.exceptions.ValidationError` with a field dict (nested
  fields as `lines.0.quantity`), a state that forbids the write raises `Conflict`, and a
  stale `expected_version` (If-Match) raises `StaleVersion`; nothing is half-written;
- rows that can race are locked with `SELECT ... FOR UPDATE` before they are read;
- stored invoice totals are recomputed here on every change, never taken from input.
"""

import copy
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from . import bulk, events, tasks
from .countries import COUNTRY_CODES
from .models import (
    AccountingStatus,
    ChangeAction,
    ChangeRecord,
    Contact,
    Interface,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    Payment,
    PaymentMethod,
    Product,
    TaxRate,
)
from .totals import TaxLine, invoice_totals, line_amount

logger = logging.getLogger(__name__)

_UNSET = object()
DEFAULT_PAYMENT_TERM_DAYS = 30
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class Conflict(Exception):
    """The record's state forbids the write (the API answers 409)."""


class StaleVersion(Exception):
    """The caller's `expected_version` is not the row's version any more (412)."""


# --- Helpers: history, locking, lookups ----------------------------------------------


def _json(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def _actor(by):
    return by if getattr(by, "is_authenticated", False) else None


def _record(obj, action: ChangeAction, changes: dict, *, by, via, pk=None) -> ChangeRecord:
    return ChangeRecord.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=pk or obj.pk,
        action=action,
        actor=_actor(by),
        via=Interface(via),
        changes=changes,
    )


def _locked(model, obj, expected_version: int | None):
    """The row of `obj`, locked for this transaction; StaleVersion if it moved on."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion
    return locked


def _as_uuid(value) -> uuid.UUID | None:
    """A UUID from a UUID, its string or a model instance; None if it is none of those."""
    if isinstance(value, models.Model):
        value = value.pk
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _resolve(model, value, field: str):
    """An instance of `model` from an instance or a primary key; a field error if unknown."""
    if isinstance(value, model):
        return value
    pk = _as_uuid(value) if value is not None else None
    found = model.objects.filter(pk=pk).first() if pk else None
    if found is None:
        raise ValidationError({field: [f"Unknown {model._meta.verbose_name}."]})
    return found


def _set_fields(obj, values: dict) -> dict:
    """Assign the values that differ; returns their `{field: [old, new]}`."""
    changes = {}
    for name, value in values.items():
        if value is _UNSET:
            continue
        field = obj._meta.get_field(name)
        if field.is_relation:
            old = getattr(obj, field.attname)
            if old != getattr(value, "pk", value):
                setattr(obj, name, value)
                changes[name] = [_json(old), _json(value)]
        elif getattr(obj, name) != value:
            changes[name] = [_json(getattr(obj, name)), _json(value)]
            setattr(obj, name, value)
    return changes


def _as_stored(obj, changes: dict) -> dict:
    """`changes` with the new values as validation left them (it normalizes: a country
    code upper-cased, text stripped), without the ones that turned out unchanged."""
    result = {}
    for name, (old, _new) in changes.items():
        field = obj._meta.get_field(name)
        new = _json(getattr(obj, field.attname if field.is_relation else name))
        if new != old:
            result[name] = [old, new]
    return result


def _snapshot(obj, names: Iterable[str]) -> dict:
    result = {}
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname if field.is_relation else name)
        result[name] = [None, _json(value)]
    return result


def _save_unique(obj, **kwargs) -> None:
    """Save; a unique clash that slipped past validation (a race) is a field error."""
    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError as exc:
        names = [f.name for f in obj._meta.fields if f.unique and not f.primary_key]
        unique = [name for name in names if name in str(exc)]
        field = unique[0] if unique else "non_field_errors"
        raise ValidationError({field: ["This value is already in use."]}) from exc


def _clean(obj, exclude: Iterable[str] = (), *, unique: bool = True) -> None:
    """Field validators and unique checks of the model (constraints are checked by hand
    with their own field names, and by the database). Bulk writes pass `unique=False`
    and check uniqueness for all their rows in one query."""
    obj.full_clean(exclude=list(exclude), validate_unique=unique, validate_constraints=False)


def _bump(obj, changes: dict) -> None:
    if changes:
        obj.version += 1


def _draw(key: str) -> int:
    """The next value of counter `key`, the counter row locked until commit.

    The row is created race-free (INSERT ... ON CONFLICT DO NOTHING), then locked: a
    second transaction drawing the same counter waits here until the first commits, so
    values are sequential and, since a rollback returns the value, gapless.
    """
    sequences = NumberSequence.objects.select_for_update()
    sequence = sequences.filter(key=key).first()
    if sequence is None:
        NumberSequence.objects.bulk_create([NumberSequence(key=key)], ignore_conflicts=True)
        sequence = sequences.get(key=key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def _delete(obj, *, by, via, what: str) -> None:
    snapshot = _snapshot(obj, [f.name for f in obj._meta.concrete_fields if f.name != "id"])
    pk = obj.pk
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise Conflict(f"This {what} is still in use and cannot be deleted.") from exc
    changes = {name: [values[1], None] for name, values in snapshot.items()}
    _record(obj, ChangeAction.DELETE, changes, by=by, via=via, pk=pk)


# --- Tax rates ------------------------------------------------------------------------


def _validate_tax_rate(rate: TaxRate) -> None:
    _clean(rate)
    if rate.percentage > 100:
        raise ValidationError({"percentage": ["Ensure this value is less than or equal to 100."]})


@transaction.atomic
def taxrate_create(*, name: str, percentage: Decimal, by, via) -> TaxRate:
    rate = TaxRate(name=name, percentage=percentage)
    _validate_tax_rate(rate)
    rate.save()
    _record(rate, ChangeAction.CREATE, _snapshot(rate, ["name", "percentage"]), by=by, via=via)
    return rate


@transaction.atomic
def taxrate_update(
    *, tax_rate: TaxRate, by, via, expected_version=None, name=_UNSET, percentage=_UNSET
) -> TaxRate:
    """Change a rate. Draft invoices using it are recomputed; finalized ones keep the
    totals they were issued with."""
    rate = _locked(TaxRate, tax_rate, expected_version)
    changes = _set_fields(rate, {"name": name, "percentage": percentage})
    _validate_tax_rate(rate)
    if changes:
        _bump(rate, changes)
        rate.save()
        _record(rate, ChangeAction.UPDATE, changes, by=by, via=via)
        drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT, lines__tax_rate=rate)
        for invoice in drafts.distinct():
            _invoice_recompute_stored(invoice=invoice, by=by, via=via)
    return rate


@transaction.atomic
def taxrate_delete(*, tax_rate: TaxRate, by, via, expected_version=None) -> None:
    rate = _locked(TaxRate, tax_rate, expected_version)
    _delete(rate, by=by, via=via, what="tax rate")


# --- Contacts -----------------------------------------------------------------------

CONTACT_FIELDS = (
    "customer_number", "company_name", "first_name", "last_name", "email", "phone",
    "address_line1", "address_line2", "postal_code", "city", "country", "tax_number",
    "chamber_of_commerce",
)  # fmt: skip


def _validate_contact(contact: Contact, *, unique: bool = True) -> None:
    contact.country = (contact.country or "").strip().upper()
    errors = {}
    if not contact.company_name.strip() and not (
        contact.first_name.strip() and contact.last_name.strip()
    ):
        errors["company_name"] = ["Give a company name, or a first and a last name."]
    if contact.country and contact.country not in COUNTRY_CODES:
        errors["country"] = ["Not an ISO 3166-1 alpha-2 country code."]
    try:
        _clean(contact, unique=unique)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)


def _next_customer_number() -> str:
    """The next free number of the `contact` counter (numbers given by hand are skipped)."""
    while True:
        candidate = f"{_draw('contact'):05d}"
        if not Contact.objects.filter(customer_number=candidate).exists():
            return candidate


def _check_fields(fields: dict, allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")


@transaction.atomic
def contact_create(*, by, via, **fields) -> Contact:
    """Create a contact; without a `customer_number` the next free one is assigned."""
    _check_fields(fields, CONTACT_FIELDS)
    contact = Contact(**fields)
    contact.customer_number = (contact.customer_number or "").strip() or _next_customer_number()
    _validate_contact(contact)
    _save_unique(contact)
    _record(contact, ChangeAction.CREATE, _snapshot(contact, CONTACT_FIELDS), by=by, via=via)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by, via, expected_version=None, **fields) -> Contact:
    _check_fields(fields, CONTACT_FIELDS)
    contact = _locked(Contact, contact, expected_version)
    if fields.get("country"):
        fields["country"] = fields["country"].strip().upper()
    changes = _set_fields(contact, fields)
    _validate_contact(contact)
    if changes:
        _bump(contact, changes)
        _save_unique(contact)
        _record(contact, ChangeAction.UPDATE, changes, by=by, via=via)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, by, via, expected_version=None) -> None:
    """Delete a contact; one with invoices cannot be deleted (`Conflict`)."""
    contact = _locked(Contact, contact, expected_version)
    _delete(contact, by=by, via=via, what="contact (it has invoices)")


# --- Products -----------------------------------------------------------------------

PRODUCT_FIELDS = ("sku", "title", "description", "price", "tax_rate", "is_active")


@transaction.atomic
def product_create(*, by, via, tax_rate, **fields) -> Product:
    _check_fields(fields, PRODUCT_FIELDS)
    product = Product(tax_rate=_resolve(TaxRate, tax_rate, "tax_rate"), **fields)
    _clean(product, exclude=["tax_rate"])
    _save_unique(product)
    _record(product, ChangeAction.CREATE, _snapshot(product, PRODUCT_FIELDS), by=by, via=via)
    return product


@transaction.atomic
def product_update(*, product: Product, by, via, expected_version=None, **fields) -> Product:
    _check_fields(fields, PRODUCT_FIELDS)
    if fields.get("tax_rate", _UNSET) is not _UNSET:
        fields["tax_rate"] = _resolve(TaxRate, fields["tax_rate"], "tax_rate")
    product = _locked(Product, product, expected_version)
    changes = _set_fields(product, fields)
    _clean(product, exclude=["tax_rate"])
    if changes:
        _bump(product, changes)
        _save_unique(product)
        _record(product, ChangeAction.UPDATE, changes, by=by, via=via)
    return product


@transaction.atomic
def product_delete(*, product: Product, by, via, expected_version=None) -> None:
    """Invoice lines keep their description, price and tax rate; their `product` empties."""
    product = _locked(Product, product, expected_version)
    _delete(product, by=by, via=via, what="product")


# --- Invoices: lines and totals -------------------------------------------------------

LINE_FIELDS = ("product", "description", "quantity", "unit_price", "tax_rate")
INVOICE_FIELDS = ("contact", "currency", "issue_date", "due_date", "notes")


def _ids(values) -> set[uuid.UUID]:
    return {pk for pk in (_as_uuid(v) for v in values if v is not None) if pk}


def _clean_field(model, name: str, value, errors: dict, key: str):
    """`value` through the model field's own parsing and validators (no queries)."""
    if value is None or value == "":
        errors[key] = ["This field is required."]
        return None
    try:
        return model._meta.get_field(name).clean(value, None)
    except ValidationError as exc:
        errors[key] = exc.messages
        return None


def _build_lines(items: list[dict]) -> tuple[list[InvoiceLine], list[TaxLine]]:
    """Unsaved lines (with amounts) and what the totals need, in two queries whatever
    the number of lines. A line with a `product` takes its title, price and tax rate
    for whichever of `description`, `unit_price`, `tax_rate` it does not give."""
    errors: dict[str, list[str]] = {}
    for item in items:
        _check_fields(item, LINE_FIELDS)
    product_ids = _ids(item.get("product") for item in items)
    products = Product.objects.in_bulk(product_ids) if product_ids else {}
    rate_ids = _ids(item.get("tax_rate") for item in items)
    rate_ids |= {p.tax_rate_id for p in products.values()}
    rates = TaxRate.objects.in_bulk(rate_ids) if rate_ids else {}
    lines, tax_lines = [], []
    for index, item in enumerate(items):
        key = f"lines.{index}."
        product = None
        if item.get("product") is not None:
            product = products.get(_as_uuid(item["product"]))
            if product is None:
                errors[key + "product"] = ["Unknown product."]
        rate_value = item.get("tax_rate")
        if rate_value is None and product is not None:
            rate_value = product.tax_rate_id
        rate = rates.get(_as_uuid(rate_value)) if rate_value else None
        if rate is None:
            errors[key + "tax_rate"] = (
                ["Unknown tax rate."] if rate_value is not None else ["This field is required."]
            )
        description = item.get("description") or (product.title if product else "")
        unit_price = item.get("unit_price")
        if unit_price is None and product is not None:
            unit_price = product.price
        values = {}
        for name, value in (
            ("description", description),
            ("quantity", item.get("quantity")),
            ("unit_price", unit_price),
        ):
            values[name] = _clean_field(InvoiceLine, name, value, errors, key + name)
        if any(key + name in errors for name in values) or rate is None:
            continue
        amount = line_amount(values["quantity"], values["unit_price"])
        lines.append(
            InvoiceLine(
                position=index,
                product=product,
                tax_rate=rate,
                amount=amount,
                **values,
            )
        )
        tax_lines.append(TaxLine(amount, rate.pk, rate.name, rate.percentage))
    if errors:
        raise ValidationError(errors)
    return lines, tax_lines


def _apply_totals(invoice: Invoice, tax_lines: list[TaxLine]) -> dict:
    """Set the stored totals from the lines; returns what changed."""
    totals = invoice_totals(tax_lines)
    return _set_fields(
        invoice,
        {
            "subtotal": totals.subtotal,
            "tax_total": totals.tax_total,
            "total": totals.total,
            "tax_breakdown": totals.breakdown,
        },
    )


def _lines_json(lines: Iterable[InvoiceLine]) -> list[dict]:
    return [
        {
            "product": _json(line.product_id),
            "description": line.description,
            "quantity": _json(line.quantity),
            "unit_price": _json(line.unit_price),
            "tax_rate": _json(line.tax_rate_id),
            "amount": _json(line.amount),
        }
        for line in lines
    ]


def _validate_invoice_header(invoice: Invoice) -> None:
    errors = {}
    if not CURRENCY_RE.match(invoice.currency or ""):
        errors["currency"] = ["Give an ISO 4217 currency code, such as EUR."]
    if invoice.issue_date and invoice.due_date and invoice.due_date < invoice.issue_date:
        errors["due_date"] = ["The due date cannot be before the issue date."]
    if len(invoice.notes or "") > 10_000:
        errors["notes"] = ["Ensure this field has no more than 10000 characters."]
    if errors:
        raise ValidationError(errors)


def _invoice_recompute_stored(*, invoice: Invoice, by, via) -> None:
    """Recompute a draft's line amounts and totals from its stored lines (a rate changed)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    lines = list(invoice.lines.select_related("tax_rate"))
    tax_lines = [
        TaxLine(line.amount, line.tax_rate_id, line.tax_rate.name, line.tax_rate.percentage)
        for line in lines
    ]
    changes = _apply_totals(invoice, tax_lines)
    if changes:
        _bump(invoice, changes)
        invoice.save()
        _record(invoice, ChangeAction.UPDATE, changes, by=by, via=via)


@transaction.atomic
def invoice_create(
    *,
    contact,
    lines: list[dict] = (),
    by,
    via,
    currency: str = "EUR",
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
    notes: str = "",
) -> Invoice:
    """A draft invoice with its lines. Issue date defaults to today, due date to 30 days
    later. The query count does not depend on the number of lines."""
    errors = {}
    try:
        contact = _resolve(Contact, contact, "contact")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    issue_date = issue_date or timezone.localdate()
    due_date = due_date or issue_date + dt.timedelta(days=DEFAULT_PAYMENT_TERM_DAYS)
    invoice = Invoice(
        currency=currency, issue_date=issue_date, due_date=due_date, notes=notes or ""
    )
    try:
        _validate_invoice_header(invoice)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        built, tax_lines = _build_lines(list(lines))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    invoice.contact = contact
    invoice.created_by = _actor(by)
    _apply_totals(invoice, tax_lines)
    invoice.save()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    changes = _snapshot(invoice, [*INVOICE_FIELDS, "subtotal", "tax_total", "total"])
    changes["lines"] = [None, _lines_json(built)]
    _record(invoice, ChangeAction.CREATE, changes, by=by, via=via)
    return invoice


@transaction.atomic
def invoice_update(
    *, invoice: Invoice, by, via, expected_version: int | None = None, lines=_UNSET, **fields
) -> Invoice:
    """Change a draft (its `lines`, if given, replace the old ones as a whole).

    Once finalized only `notes` can change; anything else is a field error.
    """
    _check_fields(fields, INVOICE_FIELDS)
    invoice = _locked(Invoice, invoice, expected_version)
    errors = {}
    if invoice.status != InvoiceStatus.DRAFT:
        for name in fields.keys() - {"notes"}:
            errors[name] = ["Only the notes of a finalized invoice can change."]
        if lines is not _UNSET:
            errors["lines"] = ["The lines of a finalized invoice cannot change."]
        if errors:
            raise ValidationError(errors)
    if fields.get("contact", _UNSET) is not _UNSET:
        try:
            fields["contact"] = _resolve(Contact, fields["contact"], "contact")
        except ValidationError as exc:
            errors.update(exc.message_dict)
            del fields["contact"]
    if "notes" in fields and fields["notes"] is None:
        fields["notes"] = ""
    changes = _set_fields(invoice, fields)
    try:
        _validate_invoice_header(invoice)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    built = None
    if lines is not _UNSET:
        try:
            built, tax_lines = _build_lines(list(lines or []))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if built is not None:
        old_lines = list(invoice.lines.all())
        old_json, new_json = _lines_json(old_lines), _lines_json(built)
        if old_json != new_json:
            changes["lines"] = [old_json, new_json]
            invoice.lines.all().delete()
            for line in built:
                line.invoice = invoice
            InvoiceLine.objects.bulk_create(built)
            changes.update(_apply_totals(invoice, tax_lines))
    if changes:
        _bump(invoice, changes)
        invoice.save()
        _record(invoice, ChangeAction.UPDATE, changes, by=by, via=via)
    return invoice


@transaction.atomic
def invoice_delete(*, invoice: Invoice, by, via, expected_version: int | None = None) -> None:
    """Only drafts can be deleted: a numbered invoice is cancelled instead (no gaps)."""
    invoice = _locked(Invoice, invoice, expected_version)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict("Only draft invoices can be deleted; cancel this one instead.")
    _delete(invoice, by=by, via=via, what="invoice")


def invoice_number(year: int, value: int) -> str:
    return f"{year}-{value:04d}"


@transaction.atomic
def invoice_finalize(*, invoice: Invoice, by, via) -> Invoice:
    """Draft -> open, with the next number of the issue date's year (`2026-0001`).

    The invoice row and then the year's counter row are locked until commit, so
    concurrent finalizes get consecutive numbers and a failed one leaves no gap.
    Sends `events.invoice_finalized` inside the transaction.
    """
    invoice = _locked(Invoice, invoice, None)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict("Only a draft invoice can be finalized.")
    if not invoice.lines.exists():
        raise ValidationError({"lines": ["An invoice needs at least one line to be finalized."]})
    year = invoice.issue_date.year
    invoice.number = invoice_number(year, _draw(f"invoice:{year}"))
    invoice.status = InvoiceStatus.OPEN
    invoice.finalized_at = timezone.now()
    invoice.version += 1
    invoice.save()
    changes = {"status": [InvoiceStatus.DRAFT, invoice.status], "number": [None, invoice.number]}
    _record(invoice, ChangeAction.FINALIZE, changes, by=by, via=via)
    events.invoice_finalized.send(sender=Invoice, invoice=invoice, by=by, via=via)
    return invoice


ACCOUNTING_FIELDS = ("status", "remote_id", "remote_number", "last_error", "synced_at")


def invoice_set_accounting_state(*, invoice_id, **state) -> int:
    """Record where the invoice stands in the accounting system (`status`, `remote_id`,
    `remote_number`, `last_error`, `synced_at`; what is not given stays).

    Written by the sync (integrations), not by a person: the invoice's `version` and
    `updated_at` stay and no history is recorded, so an If-Match a person holds stays
    valid and the history shows only changes of the invoice itself. Returns 1, or 0 when
    the invoice is gone.
    """
    unknown = set(state) - set(ACCOUNTING_FIELDS)
    if unknown:
        raise TypeError(f"unknown accounting fields: {sorted(unknown)}")
    if "status" in state and state["status"] not in AccountingStatus.values:
        raise ValueError(f"unknown accounting status {state['status']!r}")
    values = {f"accounting_{name}": value for name, value in state.items()}
    for name in ("accounting_remote_id", "accounting_remote_number", "accounting_last_error"):
        if name in values and values[name] is None:
            values[name] = ""
    return Invoice.objects.filter(pk=invoice_id).update(**values) if values else 0


def invoices_set_accounting_state(*, states: dict) -> int:
    """`invoice_set_accounting_state` for many invoices in one query (the pull's
    batches): `states` maps invoice ids to the same keyword values, all with the same
    keys. Returns how many invoices were written."""
    if not states:
        return 0
    names = set().union(*(set(state) for state in states.values()))
    unknown = names - set(ACCOUNTING_FIELDS)
    if unknown:
        raise TypeError(f"unknown accounting fields: {sorted(unknown)}")
    invoices = []
    for pk, state in states.items():
        if "status" in state and state["status"] not in AccountingStatus.values:
            raise ValueError(f"unknown accounting status {state['status']!r}")
        invoice = Invoice(pk=pk)
        for name in names:
            value = state.get(name)
            if value is None and name != "synced_at":
                value = ""
            setattr(invoice, f"accounting_{name}", value)
        invoices.append(invoice)
    fields = [f"accounting_{name}" for name in sorted(names)]
    if connection.vendor != "postgresql":
        return Invoice.objects.bulk_update(invoices, fields, batch_size=500)
    # One UPDATE ... FROM (VALUES ...): bulk_update's CASE per field and row costs more to
    # build than to run.
    columns = [Invoice._meta.get_field(name).column for name in fields]
    table = connection.ops.quote_name(Invoice._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(c)} = v.{connection.ops.quote_name(c)}"
                     for c in columns)  # fmt: skip
    casts = ["timestamptz" if c == "accounting_synced_at" else "text" for c in columns]
    row = "(" + ", ".join(["%s::uuid", *(f"%s::{cast}" for cast in casts)]) + ")"
    names_sql = ", ".join(["id", *(connection.ops.quote_name(c) for c in columns)])
    params = [v for obj in invoices for v in (obj.pk, *(getattr(obj, f) for f in fields))]
    rows = ", ".join([row] * len(invoices))
    # Identifiers come from the model's meta and are quoted; every value is a parameter.
    sql = f"UPDATE {table} AS i SET {sets} FROM (VALUES {rows}) AS v({names_sql}) WHERE i.id = v.id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, by, via) -> Invoice:
    """A draft or an unpaid open invoice -> cancelled (a number stays taken)."""
    invoice = _locked(Invoice, invoice, None)
    if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
        raise Conflict(f"A {invoice.status} invoice cannot be cancelled.")
    if invoice.total_paid > 0:
        raise Conflict("An invoice with payments cannot be cancelled.")
    old = invoice.status
    invoice.status = InvoiceStatus.CANCELLED
    invoice.cancelled_at = timezone.now()
    invoice.version += 1
    invoice.save()
    _record(invoice, ChangeAction.CANCEL, {"status": [old, invoice.status]}, by=by, via=via)
    return invoice


def _payment_check(invoice: Invoice, amount, date, method, reference) -> tuple:
    """The rules of a payment on `invoice` as it stands: `(amount, errors)`."""
    errors = {}
    if invoice.status != InvoiceStatus.OPEN:
        errors["invoice"] = [
            f"Payments can be registered on open invoices only; this one is {invoice.status}."
        ]
    amount = _clean_field(Payment, "amount", amount, errors, "amount")
    if amount is not None and amount <= 0:
        errors["amount"] = ["Ensure this value is greater than 0."]
    elif amount is not None and "invoice" not in errors and amount > invoice.total_due:
        errors["amount"] = [f"The payment exceeds the amount due ({invoice.total_due:f})."]
    if method not in PaymentMethod.values:
        errors["method"] = [f'"{method}" is not a valid choice.']
    if not isinstance(date, dt.date):
        errors["date"] = ["This field is required."]
    if len(reference or "") > 200:
        errors["reference"] = ["Ensure this field has no more than 200 characters."]
    return amount, errors


def _payment_apply(invoice: Invoice, payment: Payment) -> tuple[dict, bool]:
    """Add a checked payment to the invoice in memory (total paid, paid at zero due, the
    version); returns the history's changes and whether it is paid now."""
    old_paid, old_status = invoice.total_paid, invoice.status
    invoice.total_paid += payment.amount
    changes = {
        "payment": [None, {"id": str(payment.pk), "amount": _json(payment.amount),
                           "date": _json(payment.date), "method": payment.method,
                           "reference": payment.reference}],
        "total_paid": [_json(old_paid), _json(invoice.total_paid)],
    }  # fmt: skip
    paid = invoice.total_due == 0
    if paid:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = timezone.now()
        changes["status"] = [old_status, invoice.status]
    invoice.version += 1
    return changes, paid


@transaction.atomic
def payment_register(
    *,
    invoice: Invoice,
    amount: Decimal,
    date: dt.date,
    method: str,
    reference: str = "",
    by,
    via,
) -> Payment:
    """Record money received for an open (or late) invoice; at zero due it is paid.

    More than the amount due, or a payment on a draft, paid or cancelled invoice, is a
    field error. `events.payment_registered` is sent inside the transaction; when paid,
    the creator is emailed after commit and `events.invoice_paid` is sent too.
    """
    invoice = _locked(Invoice, invoice, None)
    amount, errors = _payment_check(invoice, amount, date, method, reference)
    if errors:
        raise ValidationError(errors)
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        date=date,
        method=method,
        reference=reference or "",
        created_by=_actor(by),
    )
    changes, paid = _payment_apply(invoice, payment)
    invoice.save()
    _record(invoice, ChangeAction.PAYMENT, changes, by=by, via=via)
    events.payment_registered.send(sender=Invoice, invoice=invoice, payment=payment, by=by, via=via)
    if paid:
        events.invoice_paid.send(sender=Invoice, invoice=invoice, payment=payment, by=by, via=via)
        invoice_id = str(invoice.pk)
        transaction.on_commit(lambda: tasks.send_invoice_paid_email.delay(invoice_id))
    return payment


# --- Sync: bulk writes from the accounting system ------------------------------------
#
# The sync engine (integrations) writes whole batches of contacts and products through
# these: rows are locked, validated and written with bulk_create / bulk_update, and their
# ChangeRecords are written in bulk, in a few queries per batch whatever its size.


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


def _sync_upsert(model, rows: list[SyncRow], *, allowed, unique_field: str, validate,
                 by, via) -> list[SyncOutcome]:  # fmt: skip
    for row in rows:
        _check_fields(row.fields, allowed)
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
            changes = _set_fields(obj, row.fields)
        else:
            obj = model(**row.fields)
            changes = _snapshot(obj, allowed)
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
        changes = _as_stored(obj, changes)
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
    _bulk_create(model, creates)
    _bulk_update(model, updates, [*names, "version", "updated_at"])
    _history(model, history, by=by, via=via)
    return outcomes


@transaction.atomic
def contacts_upsert_from_sync(*, rows: list[SyncRow], by=None,
                              via=Interface.SYNC) -> list[SyncOutcome]:  # fmt: skip
    """Create and update many contacts at once; one outcome per row, in order.

    A row whose values are invalid (no name, a customer number in use) fails alone; the
    others are written. Customer numbers come with the rows (the accounting system's).
    """
    return _sync_upsert(
        Contact, rows, allowed=CONTACT_FIELDS, unique_field="customer_number",
        validate=lambda contact: _validate_contact(contact, unique=False), by=by, via=via,
    )  # fmt: skip


@transaction.atomic
def products_upsert_from_sync(*, rows: list[SyncRow], by=None,
                              via=Interface.SYNC) -> list[SyncOutcome]:  # fmt: skip
    """Create and update many products at once (`tax_rate` given as a TaxRate)."""
    return _sync_upsert(
        Product, rows, allowed=PRODUCT_FIELDS, unique_field="sku",
        validate=lambda product: _clean(product, exclude=["tax_rate"], unique=False),
        by=by, via=via,
    )  # fmt: skip


@dataclass
class SyncPayment:
    """One payment as the accounting system has it (registered like `payment_register`)."""

    amount: Decimal
    date: dt.date
    reference: str = ""
    method: str = PaymentMethod.OTHER


@dataclass
class SyncPayments:
    """The payments to register on one invoice, in order. `settle`: the accounting system
    has the invoice paid, so the payments must leave it paid; if they do not, the row
    fails and none of them is written."""

    invoice: Invoice
    payments: list[SyncPayment]
    settle: bool = False


@dataclass
class SyncPaymentsOutcome:
    action: str  # UPDATED, UNCHANGED (no payments) or FAILED
    invoice: Invoice | None = None
    payments: list[Payment] = field(default_factory=list)  # in the order of the row's
    errors: dict[str, list[str]] = field(default_factory=dict)


def _bulk_create(model, objs: list) -> None:
    """`bulk_create` of new `objs` (primary keys set); on PostgreSQL as one INSERT ...
    SELECT FROM unnest(...) of their attribute values, timestamps set as `bulk_create`
    sets them (`auto_now` / `auto_now_add`: now, on the objects too)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=500)
        return
    fields = model._meta.concrete_fields
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or
               getattr(f, "auto_now_add", False)]  # fmt: skip
    names = [f.attname for f in fields]
    rows = []
    for obj in objs:
        now = timezone.now()
        for name in stamped:
            setattr(obj, name, now)
        rows.append(tuple(_db_value(getattr(obj, name)) for name in names))
    bulk.insert_rows(model, names, rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _db_value(value):
    """A model attribute's value for `bulk.insert_rows`: choices as their plain value."""
    return value.value if isinstance(value, Enum) else value


def _history(model, history: list[tuple], *, by, via) -> None:
    """The ChangeRecords of `history` (`(obj, action, changes)`, in order) in bulk."""
    if not history:
        return
    content_type = ContentType.objects.get_for_model(model)
    actor, via = _actor(by), Interface(via)
    if connection.vendor != "postgresql":
        ChangeRecord.objects.bulk_create([
            ChangeRecord(content_type=content_type, object_id=obj.pk, action=action,
                         actor=actor, via=via, changes=changes)
            for obj, action, changes in history
        ], batch_size=500)  # fmt: skip
        return
    actor_id, via = getattr(actor, "pk", None), via.value
    rows = [
        (content_type.pk, obj.pk, ChangeAction(action).value, actor_id, via, json.dumps(changes),
         timezone.now())
        for obj, action, changes in history
    ]  # fmt: skip
    names = ["content_type_id", "object_id", "action", "actor_id", "via", "changes", "created_at"]
    bulk.insert_rows(ChangeRecord, names, rows)


def _bulk_update(model, objs: list, names: list[str]) -> None:
    """`bulk_update` of `names` on PostgreSQL as one UPDATE ... FROM (VALUES ...): its
    CASE per field and row costs more to build than to run."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, names, batch_size=500)
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    pk = model._meta.pk
    columns = [pk, *fields]
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs for f in columns
    ]
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    names_sql = ", ".join(quote(f.column) for f in columns)
    table, key = quote(model._meta.db_table), quote(pk.column)
    # Identifiers come from the model's meta and are quoted; every value is a parameter.
    sql = (
        f"UPDATE {table} AS t SET {sets} FROM (VALUES {', '.join([row] * len(objs))}) "  # noqa: S608
        f"AS v({names_sql}) WHERE t.{key} = v.{key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _paid_emails_after_commit(invoice_ids: list[str]) -> None:
    """The invoice-paid email of each invoice after commit, as one task for all of them
    (`send_invoice_paid_emails`): a message each costs more than the batch's writes."""
    transaction.on_commit(lambda: tasks.send_invoice_paid_emails.delay(invoice_ids))


@transaction.atomic
def payments_register_from_sync(*, rows: list[SyncPayments], by=None,
                                via=Interface.SYNC) -> list[SyncPaymentsOutcome]:  # fmt: skip
    """`payment_register` for many invoices at once (the pull's batches); one outcome per
    row, in order, in a few queries whatever the number of rows.

    The same rules, payment by payment in each row's order: the invoice row locked, each
    payment checked against the invoice as the previous ones left it, totals recomputed,
    paid at zero due, one version and one ChangeRecord per payment, the same events
    inside the transaction (`payment_registered` for each payment, `invoice_paid` when
    paid) and the invoice-paid email after commit. A row with an invalid payment (or
    that `settle`s without being paid) fails alone and writes nothing; the others are
    written. The receivers get the invoice as the whole row left it.
    """
    pks = sorted({row.invoice.pk for row in rows})
    locked = Invoice.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    invoices = {invoice.pk: invoice for invoice in locked}
    outcomes, created, touched, history, sends, paid_ids = [], [], [], [], [], []
    now = timezone.now()
    actor = _actor(by)
    for row in rows:
        current = invoices.get(row.invoice.pk)
        if current is None:
            gone = {"non_field_errors": ["Deleted here meanwhile."]}
            outcomes.append(SyncPaymentsOutcome(SyncAction.FAILED, errors=gone))
            continue
        if not row.payments and not row.settle:
            outcomes.append(SyncPaymentsOutcome(SyncAction.UNCHANGED, current))
            continue
        # On a copy: a failed row leaves the locked invoice as it was (as a rollback would).
        invoice = copy.copy(current)
        payments, changes_of, errors, paid = [], [], {}, None
        for item in row.payments:
            amount, errors = _payment_check(invoice, item.amount, item.date, item.method,
                                            item.reference)  # fmt: skip
            if errors:
                break
            payment = Payment(invoice=invoice, amount=amount, date=item.date, method=item.method,
                              reference=item.reference or "", created_by=actor)  # fmt: skip
            changes, paid_now = _payment_apply(invoice, payment)
            paid = payment if paid_now else paid
            payments.append(payment)
            changes_of.append(changes)
        if not errors and row.settle and invoice.status != InvoiceStatus.PAID:
            errors = {"status": [f"Paid there, but {invoice.total_due:f} is still due here."]}
        if errors:
            outcomes.append(SyncPaymentsOutcome(SyncAction.FAILED, current, errors=errors))
            continue
        if not payments:
            outcomes.append(SyncPaymentsOutcome(SyncAction.UNCHANGED, current))
            continue
        invoice.updated_at = now
        invoices[invoice.pk] = invoice  # a second row of the same invoice sees this one
        created.extend(payments)
        touched.append(invoice)
        history.extend((invoice, changes) for changes in changes_of)
        sends.append((invoice, payments, paid))
        if paid is not None:
            paid_ids.append(str(invoice.pk))
        outcomes.append(SyncPaymentsOutcome(SyncAction.UPDATED, invoice, payments))
    if not created:
        return outcomes
    _bulk_create(Payment, created)
    latest = list({invoice.pk: invoice for invoice in touched}.values())
    _bulk_update(Invoice, latest, ["total_paid", "status", "paid_at", "version", "updated_at"])
    _history(Invoice, [(invoice, ChangeAction.PAYMENT, changes) for invoice, changes in history],
             by=by, via=via)  # fmt: skip
    for invoice, payments, paid in sends:
        for payment in payments:
            events.payment_registered.send(sender=Invoice, invoice=invoice, payment=payment,
                                           by=by, via=via)  # fmt: skip
        if paid is not None:
            events.invoice_paid.send(sender=Invoice, invoice=invoice, payment=paid, by=by, via=via)
    if paid_ids:
        _paid_emails_after_commit(paid_ids)
    return outcomes
