"""Tax rates: create, change (draft invoices using the rate are recomputed), delete."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from records.models import ChangeAction, Invoice, InvoiceStatus, TaxRate

from .fields import UNSET, clean, set_fields
from .history import bump, delete_recorded, locked, record_change, snapshot
from .invoices import invoice_recompute_stored


def _validate_tax_rate(rate: TaxRate) -> None:
    clean(rate)
    if rate.percentage > 100:
        raise ValidationError({"percentage": ["Ensure this value is less than or equal to 100."]})


@transaction.atomic
def taxrate_create(*, name: str, percentage: Decimal, by, via) -> TaxRate:
    rate = TaxRate(name=name, percentage=percentage)
    _validate_tax_rate(rate)
    rate.save()
    record_change(rate, ChangeAction.CREATE, snapshot(rate, ["name", "percentage"]), by=by, via=via)
    return rate


@transaction.atomic
def taxrate_update(
    *,
    tax_rate: TaxRate,
    by,
    via,
    expected_version: int | None = None,
    name: str = UNSET,
    percentage: Decimal = UNSET,
) -> TaxRate:
    """Change a rate. Draft invoices using it are recomputed; finalized ones keep the
    totals they were issued with."""
    rate = locked(TaxRate, tax_rate, expected_version)
    changes = set_fields(rate, {"name": name, "percentage": percentage})
    _validate_tax_rate(rate)
    if changes:
        bump(rate, changes)
        rate.save()
        record_change(rate, ChangeAction.UPDATE, changes, by=by, via=via)
        drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT, lines__tax_rate=rate)
        for invoice in drafts.distinct():
            invoice_recompute_stored(invoice=invoice, by=by, via=via)
    return rate


@transaction.atomic
def taxrate_delete(*, tax_rate: TaxRate, by, via, expected_version: int | None = None) -> None:
    """Delete a rate; one that products or invoice lines use cannot be (`Conflict`)."""
    rate = locked(TaxRate, tax_rate, expected_version)
    delete_recorded(rate, by=by, via=via, what="tax rate")
