"""Moneybird's JSON <-> Ledgerbridge's data classes (`providers/base.py`).

Every Moneybird field name (`address1`, `zipcode`, `send_invoices_to_email`,
`customer_id` for our customer number, `invoice_id` for its invoice number), state
string and the reference text of a payment registered here from one there lives here.
"""

from datetime import date

from ..base import (
    ContactData,
    InvoiceData,
    InvoiceState,
    RemoteContact,
    RemoteInvoice,
    RemotePayment,
    RemoteProduct,
    RemoteTaxRate,
    RemoteVersion,
    UnexpectedResponse,
    content_version,
)
from ..http import parse_amount

# Moneybird's sales invoice states; those not named here read as OPEN (sent, not settled:
# open, scheduled, pending_payment, late, reminded).
STATES = {
    "draft": InvoiceState.DRAFT,
    "paid": InvoiceState.PAID,
    "uncollectible": InvoiceState.UNCOLLECTIBLE,
}


def _text(raw: dict, name: str) -> str:
    return str(raw.get(name) or "")


def contact_attributes(data: ContactData) -> dict:
    """The `contact` body of a create or update: the fields the push sends."""
    return {
        "customer_id": data.key,
        "company_name": data.company_name,
        "firstname": data.first_name,
        "lastname": data.last_name,
        "send_invoices_to_email": data.email,
        "address1": data.address_line1,
        "zipcode": data.postal_code,
        "city": data.city,
        "country": data.country,
        "tax_number": data.tax_number,
    }


def contact(raw: dict) -> RemoteContact:
    return RemoteContact(
        id=str(raw["id"]),
        version=int(raw["version"]),
        key=raw.get("customer_id") or "",
        company_name=raw.get("company_name") or "",
        first_name=raw.get("firstname") or "",
        last_name=raw.get("lastname") or "",
        email=_text(raw, "send_invoices_to_email") or _text(raw, "email"),
        phone=_text(raw, "phone"),
        address_line1=_text(raw, "address1"),
        address_line2=_text(raw, "address2"),
        postal_code=_text(raw, "zipcode"),
        city=_text(raw, "city"),
        country=_text(raw, "country"),
        tax_number=_text(raw, "tax_number"),
        chamber_of_commerce=_text(raw, "chamber_of_commerce"),
    )


def invoice_body(data: InvoiceData) -> dict:
    details = []
    for line in data.lines:
        detail = {
            "description": line.description,
            "amount": str(line.quantity),
            "price": str(line.unit_price),
        }
        if line.tax_rate_id:
            detail["tax_rate_id"] = line.tax_rate_id
        if line.ledger_account_id:
            detail["ledger_account_id"] = line.ledger_account_id
        details.append(detail)
    return {
        "sales_invoice": {
            "contact_id": data.contact_id,
            "reference": data.reference,
            "invoice_date": data.invoice_date.isoformat(),
            "first_due_interval": data.due_days,
            "prices_are_incl_tax": data.prices_include_tax,
            "details_attributes": details,
        }
    }


def payment(raw: dict) -> RemotePayment:
    return RemotePayment(
        id=str(raw["id"]),
        invoice_id=str(raw["invoice_id"]),
        amount=parse_amount(raw["price"]),
        payment_date=date.fromisoformat(raw["payment_date"]),
        reference=f"Moneybird payment {raw['id']}",
    )


def invoice(raw: dict) -> RemoteInvoice:
    return RemoteInvoice(
        id=str(raw["id"]),
        version=int(raw["version"]),
        reference=raw.get("reference") or "",
        state=STATES.get(raw["state"], InvoiceState.OPEN),
        number=raw.get("invoice_id"),
        contact_id=str(raw["contact_id"]),
        total_excl_tax=parse_amount(raw["total_price_excl_tax"]),
        total_incl_tax=parse_amount(raw["total_price_incl_tax"]),
        total_unpaid=parse_amount(raw["total_unpaid"]),
        payments=tuple(payment(p) for p in raw.get("payments", ())),
    )


def tax_rate(raw: dict) -> RemoteTaxRate:
    name, percentage = raw["name"], parse_amount(raw["percentage"])
    return RemoteTaxRate(
        id=str(raw["id"]),
        name=name,
        percentage=percentage,
        version=content_version(name, percentage),
    )


def product(raw: dict) -> RemoteProduct:
    """A product; one without an identifier gets the SKU `MB-{id}`."""
    product_id = str(raw["id"])
    identifier = raw.get("identifier") or ""
    title = raw.get("title") or ""
    description = raw.get("description") or ""
    price = parse_amount(raw["price"])
    tax_rate_id = str(raw["tax_rate_id"]) if raw.get("tax_rate_id") else None
    return RemoteProduct(
        id=product_id,
        version=content_version(identifier, title, description, price, tax_rate_id),
        sku=identifier or f"MB-{product_id}",
        title=title[:200] or identifier or f"Product {product_id}",
        description=description,
        price=price,
        tax_rate_id=tax_rate_id,
    )


def versions(rows) -> list[RemoteVersion]:
    if not isinstance(rows, list):
        raise UnexpectedResponse("Moneybird sent a synchronization list that is not a list")
    return [RemoteVersion(id=str(r["id"]), version=int(r["version"])) for r in rows]
