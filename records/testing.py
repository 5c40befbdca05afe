"""Test helpers other apps can import: records made through the services.

from records.testing import tax_rate, make_contact, make_invoice

invoice = make_invoice(lines=[line("129.95")], finalize=True)
"""

from decimal import Decimal

from records import services
from records.models import Interface, TaxRate


def tax_rate(percentage: str | int = 21) -> TaxRate:
    """A seeded rate (21, 9 or 0), or a new one with that percentage."""
    rate = TaxRate.objects.filter(percentage=Decimal(str(percentage))).first()
    if rate is None:
        rate = services.taxrate_create(
            name=f"{percentage}%", percentage=Decimal(str(percentage)), by=None, via=Interface.API
        )
    return rate


def make_contact(by=None, **fields):
    if not (fields.get("first_name") or fields.get("last_name")):
        fields.setdefault("company_name", "Acme B.V.")
    return services.contact_create(**fields, by=by, via=Interface.API)


def make_product(by=None, *, sku: str, price="10.00", rate=21, **fields):
    fields.setdefault("title", f"Product {sku}")
    return services.product_create(
        sku=sku, price=Decimal(price), tax_rate=tax_rate(rate), **fields, by=by, via=Interface.API
    )


def line(unit_price="10.00", quantity="1", rate=21, description="Work", **extra) -> dict:
    """A line as the services take it."""
    return {
        "description": description,
        "quantity": Decimal(str(quantity)),
        "unit_price": Decimal(str(unit_price)),
        "tax_rate": tax_rate(rate),
        **extra,
    }


def make_invoice(*, contact=None, lines=None, by=None, finalize=False, **fields):
    invoice = services.invoice_create(
        contact=contact or make_contact(by=by),
        lines=[line()] if lines is None else lines,
        by=by,
        via=Interface.API,
        **fields,
    )
    if finalize:
        invoice = services.invoice_finalize(invoice=invoice, by=by, via=Interface.API)
    return invoice
