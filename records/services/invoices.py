"""Invoices: create and change drafts (lines replaced as a whole, totals recomputed),
finalize (draft -> open with the next number), cancel, delete a draft."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import events
from records.models import ChangeAction, Contact, Invoice, InvoiceLine, InvoiceStatus
from records.totals import TaxLine

from .fields import UNSET, check_date, given, resolve, set_fields
from .history import (
    Conflict,
    actor,
    bump,
    delete_recorded,
    locked,
    record_change,
    snapshot,
)
from .lines import LineInput, apply_totals, build_lines, lines_json
from .numbering import invoice_number_next

DEFAULT_PAYMENT_TERM_DAYS = 30
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
INVOICE_FIELDS = ("contact", "currency", "issue_date", "due_date", "notes")


def _validate_invoice_header(invoice: Invoice) -> None:
    errors = {}
    if not CURRENCY_RE.match(invoice.currency or ""):
        errors["currency"] = ["Give an ISO 4217 currency code, such as EUR."]
    check_date(invoice.issue_date, "issue_date", errors)
    check_date(invoice.due_date, "due_date", errors)
    if invoice.issue_date and invoice.due_date and invoice.due_date < invoice.issue_date:
        errors["due_date"] = ["The due date cannot be before the issue date."]
    if len(invoice.notes or "") > 10_000:
        errors["notes"] = ["Ensure this field has no more than 10000 characters."]
    if errors:
        raise ValidationError(errors)


def invoice_recompute_stored(*, invoice: Invoice, by, via) -> None:
    """Recompute a draft's totals from its stored lines (a rate they use changed)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    lines = list(invoice.lines.select_related("tax_rate"))
    tax_lines = [
        TaxLine(line.amount, line.tax_rate_id, line.tax_rate.name, line.tax_rate.percentage)
        for line in lines
    ]
    changes = apply_totals(invoice, tax_lines)
    if changes:
        bump(invoice, changes)
        invoice.save()
        record_change(invoice, ChangeAction.UPDATE, changes, by=by, via=via)


@transaction.atomic
def invoice_create(
    *,
    contact,
    lines: list[LineInput] = (),
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
        contact = resolve(Contact, contact, "contact")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    issue_date = issue_date or timezone.localdate()
    if due_date is None and check_date(issue_date, "issue_date", errors):
        due_date = issue_date + dt.timedelta(days=DEFAULT_PAYMENT_TERM_DAYS)
    invoice = Invoice(
        currency=currency, issue_date=issue_date, due_date=due_date, notes=notes or ""
    )
    try:
        _validate_invoice_header(invoice)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        built, tax_lines = build_lines(list(lines))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    invoice.contact = contact
    invoice.created_by = actor(by)
    apply_totals(invoice, tax_lines)
    invoice.save()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    changes = snapshot(invoice, [*INVOICE_FIELDS, "subtotal", "tax_total", "total"])
    changes["lines"] = [None, lines_json(built)]
    record_change(invoice, ChangeAction.CREATE, changes, by=by, via=via)
    return invoice


@transaction.atomic
def invoice_update(
    *,
    invoice: Invoice,
    by,
    via,
    expected_version: int | None = None,
    lines: list[LineInput] = UNSET,
    contact=UNSET,
    currency: str = UNSET,
    issue_date: dt.date = UNSET,
    due_date: dt.date = UNSET,
    notes: str | None = UNSET,
) -> Invoice:
    """Change a draft (its `lines`, if given, replace the old ones as a whole).

    Once finalized only `notes` can change; anything else is a field error.
    """
    fields = given(
        contact=contact, currency=currency, issue_date=issue_date, due_date=due_date, notes=notes
    )
    invoice = locked(Invoice, invoice, expected_version)
    errors = {}
    if invoice.status != InvoiceStatus.DRAFT:
        for name in fields.keys() - {"notes"}:
            errors[name] = ["Only the notes of a finalized invoice can change."]
        if lines is not UNSET:
            errors["lines"] = ["The lines of a finalized invoice cannot change."]
        if errors:
            raise ValidationError(errors)
    if "contact" in fields:
        try:
            fields["contact"] = resolve(Contact, fields["contact"], "contact")
        except ValidationError as exc:
            errors.update(exc.message_dict)
            del fields["contact"]
    if "notes" in fields and fields["notes"] is None:
        fields["notes"] = ""
    changes = set_fields(invoice, fields)
    try:
        _validate_invoice_header(invoice)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    built = None
    if lines is not UNSET:
        try:
            built, tax_lines = build_lines(list(lines or []))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if built is not None:
        old_lines = list(invoice.lines.all())
        old_json, new_json = lines_json(old_lines), lines_json(built)
        if old_json != new_json:
            changes["lines"] = [old_json, new_json]
            invoice.lines.all().delete()
            for line in built:
                line.invoice = invoice
            InvoiceLine.objects.bulk_create(built)
            changes.update(apply_totals(invoice, tax_lines))
    if changes:
        bump(invoice, changes)
        invoice.save()
        record_change(invoice, ChangeAction.UPDATE, changes, by=by, via=via)
    return invoice


@transaction.atomic
def invoice_delete(*, invoice: Invoice, by, via, expected_version: int | None = None) -> None:
    """Only drafts can be deleted: a numbered invoice is cancelled instead (no gaps)."""
    invoice = locked(Invoice, invoice, expected_version)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict("Only draft invoices can be deleted; cancel this one instead.")
    delete_recorded(invoice, by=by, via=via, what="invoice")


@transaction.atomic
def invoice_finalize(*, invoice: Invoice, by, via) -> Invoice:
    """Draft -> open, with the next number of the issue date's year (`2026-0001`).

    The invoice row and then the year's counter row are locked until commit, so
    concurrent finalizes get consecutive numbers and a failed one leaves no gap.
    Sends `events.invoice_finalized` inside the transaction.
    """
    invoice = locked(Invoice, invoice, None)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict("Only a draft invoice can be finalized.")
    if not invoice.lines.exists():
        raise ValidationError({"lines": ["An invoice needs at least one line to be finalized."]})
    invoice.number = invoice_number_next(invoice.issue_date.year)
    invoice.status = InvoiceStatus.OPEN
    invoice.finalized_at = timezone.now()
    invoice.version += 1
    invoice.save()
    changes = {"status": [InvoiceStatus.DRAFT, invoice.status], "number": [None, invoice.number]}
    record_change(invoice, ChangeAction.FINALIZE, changes, by=by, via=via)
    events.invoice_finalized.send(sender=Invoice, invoice=invoice, by=by, via=via)
    return invoice


def cancel_check(invoice: Invoice) -> str | None:
    """Why `invoice` cannot be cancelled as it stands (None: it can)."""
    if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
        return f"A {invoice.status} invoice cannot be cancelled."
    if invoice.total_paid > 0:
        return "An invoice with payments cannot be cancelled."
    return None


def cancel_apply(invoice: Invoice) -> dict:
    """Cancel a checked invoice in memory (the version too); returns the history's changes."""
    old = invoice.status
    invoice.status = InvoiceStatus.CANCELLED
    invoice.cancelled_at = timezone.now()
    invoice.version += 1
    return {"status": [old, invoice.status]}


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, by, via) -> Invoice:
    """A draft or an unpaid open invoice -> cancelled (a number stays taken)."""
    invoice = locked(Invoice, invoice, None)
    refusal = cancel_check(invoice)
    if refusal:
        raise Conflict(refusal)
    changes = cancel_apply(invoice)
    invoice.save()
    record_change(invoice, ChangeAction.CANCEL, changes, by=by, via=via)
    return invoice
