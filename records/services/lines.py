"""Invoice lines and stored totals: built from input in two queries, amounts and totals
computed here (half-up to cents, `records.totals`), never taken from input. A line's
amount and the invoice's totals must fit their columns (`fits_column`): a field error
(`lines.N.amount`, `total`), never a database error."""

import uuid
from collections.abc import Iterable
from typing import TypedDict

from django.core.exceptions import ValidationError

from records.models import Invoice, InvoiceLine, Product, TaxRate
from records.totals import TaxLine, invoice_totals, line_amount

from .fields import as_uuid, check_fields, set_fields
from .history import json_value

LINE_FIELDS = ("product", "description", "quantity", "unit_price", "tax_rate")


class LineInput(TypedDict, total=False):
    """A line as the invoice services take it: `product` and `tax_rate` as instances or
    ids; a line with a product takes its title, price and rate for what it leaves out."""

    product: object
    description: str
    quantity: object
    unit_price: object
    tax_rate: object


def _ids(values) -> set[uuid.UUID]:
    return {pk for pk in (as_uuid(v) for v in values if v is not None) if pk}


def clean_field(model, name: str, value, errors: dict, key: str):
    """`value` through the model field's own parsing and validators (no queries)."""
    if value is None or value == "":
        errors[key] = ["This field is required."]
        return None
    try:
        return model._meta.get_field(name).clean(value, None)
    except ValidationError as exc:
        errors[key] = exc.messages
        return None


def fits_column(model, name: str, value, key: str, errors: dict) -> bool:
    """Whether a computed amount fits the model's DecimalField; a field error if not."""
    field = model._meta.get_field(name)
    try:
        field.run_validators(value)
    except ValidationError:
        largest = "9" * (field.max_digits - field.decimal_places)
        errors[key] = [f"The amount is too large: at most {largest}.{'9' * field.decimal_places}."]
        return False
    return True


def build_lines(items: list[LineInput]) -> tuple[list[InvoiceLine], list[TaxLine]]:
    """Unsaved lines (with amounts) and what the totals need, in two queries whatever
    the number of lines. A line with a `product` takes its title, price and tax rate
    for whichever of `description`, `unit_price`, `tax_rate` it does not give."""
    errors: dict[str, list[str]] = {}
    for item in items:
        check_fields(item, LINE_FIELDS)
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
            product = products.get(as_uuid(item["product"]))
            if product is None:
                errors[key + "product"] = ["Unknown product."]
        rate_value = item.get("tax_rate")
        if rate_value is None and product is not None:
            rate_value = product.tax_rate_id
        rate = rates.get(as_uuid(rate_value)) if rate_value else None
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
            values[name] = clean_field(InvoiceLine, name, value, errors, key + name)
        if any(key + name in errors for name in values) or rate is None:
            continue
        amount = line_amount(values["quantity"], values["unit_price"])
        if not fits_column(InvoiceLine, "amount", amount, key + "amount", errors):
            continue
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


def apply_totals(invoice: Invoice, tax_lines: list[TaxLine]) -> dict:
    """Set the stored totals from the lines; returns what changed (a field error when a
    total is too large for its column)."""
    totals = invoice_totals(tax_lines)
    errors: dict[str, list[str]] = {}
    for name in ("subtotal", "tax_total", "total"):
        fits_column(Invoice, name, getattr(totals, name), name, errors)
    if errors:
        raise ValidationError(errors)
    return set_fields(
        invoice,
        {
            "subtotal": totals.subtotal,
            "tax_total": totals.tax_total,
            "total": totals.total,
            "tax_breakdown": totals.breakdown,
        },
    )


def lines_json(lines: Iterable[InvoiceLine]) -> list[dict]:
    """The lines as the history records them."""
    return [
        {
            "product": json_value(line.product_id),
            "description": line.description,
            "quantity": json_value(line.quantity),
            "unit_price": json_value(line.unit_price),
            "tax_rate": json_value(line.tax_rate_id),
            "amount": json_value(line.amount),
        }
        for line in lines
    ]
