"""Contacts: create (with the next free customer number), change, delete."""

from django.core.exceptions import ValidationError
from django.db import transaction

from records.countries import COUNTRY_CODES
from records.models import ChangeAction, Contact

from .fields import UNSET, clean, record_update, save_unique
from .history import delete_recorded, locked, record_change, snapshot
from .numbering import customer_number_next

CONTACT_FIELDS = (
    "customer_number",
    "company_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "tax_number",
    "chamber_of_commerce",
)


def validate_contact(contact: Contact, *, unique: bool = True) -> None:
    """The contact's rules (a name; a known country, upper-cased here) and its fields'
    own validators; `unique=False` leaves the customer number's uniqueness to the caller."""
    contact.country = (contact.country or "").strip().upper()
    errors = {}
    if not contact.company_name.strip() and not (
        contact.first_name.strip() and contact.last_name.strip()
    ):
        errors["company_name"] = ["Give a company name, or a first and a last name."]
    if contact.country and contact.country not in COUNTRY_CODES:
        errors["country"] = ["Not an ISO 3166-1 alpha-2 country code."]
    try:
        clean(contact, unique=unique)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contact_create(
    *,
    by,
    via,
    customer_number: str = "",
    company_name: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    address_line1: str = "",
    address_line2: str = "",
    postal_code: str = "",
    city: str = "",
    country: str = "",
    tax_number: str = "",
    chamber_of_commerce: str = "",
) -> Contact:
    """Create a contact; without a `customer_number` the next free one is assigned."""
    contact = Contact(
        company_name=company_name,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        address_line1=address_line1,
        address_line2=address_line2,
        postal_code=postal_code,
        city=city,
        country=country,
        tax_number=tax_number,
        chamber_of_commerce=chamber_of_commerce,
    )
    contact.customer_number = (customer_number or "").strip() or customer_number_next()
    validate_contact(contact)
    save_unique(contact)
    record_change(contact, ChangeAction.CREATE, snapshot(contact, CONTACT_FIELDS), by=by, via=via)
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    by,
    via,
    expected_version: int | None = None,
    customer_number: str = UNSET,
    company_name: str = UNSET,
    first_name: str = UNSET,
    last_name: str = UNSET,
    email: str = UNSET,
    phone: str = UNSET,
    address_line1: str = UNSET,
    address_line2: str = UNSET,
    postal_code: str = UNSET,
    city: str = UNSET,
    country: str = UNSET,
    tax_number: str = UNSET,
    chamber_of_commerce: str = UNSET,
) -> Contact:
    """Change the given fields (`StaleVersion` if `expected_version` is not the row's)."""
    if country is not UNSET and country:
        country = country.strip().upper()
    values = {
        "customer_number": customer_number,
        "company_name": company_name,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "phone": phone,
        "address_line1": address_line1,
        "address_line2": address_line2,
        "postal_code": postal_code,
        "city": city,
        "country": country,
        "tax_number": tax_number,
        "chamber_of_commerce": chamber_of_commerce,
    }
    return record_update(
        Contact,
        contact,
        values,
        validate=validate_contact,
        expected_version=expected_version,
        by=by,
        via=via,
    )


@transaction.atomic
def contact_delete(*, contact: Contact, by, via, expected_version: int | None = None) -> None:
    """Delete a contact; one with invoices cannot be deleted (`Conflict`)."""
    contact = locked(Contact, contact, expected_version)
    delete_recorded(contact, by=by, via=via, what="contact (it has invoices)")
