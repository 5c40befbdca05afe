"""Products: create, change, delete (invoice lines keep what they were issued with)."""

from decimal import Decimal

from django.db import transaction

from records.models import ChangeAction, Product, TaxRate

from .fields import UNSET, clean, record_update, resolve, save_unique
from .history import delete_recorded, locked, record_change, snapshot

PRODUCT_FIELDS = ("sku", "title", "description", "price", "tax_rate", "is_active")


def validate_product(product: Product, *, unique: bool = True) -> None:
    """The product's fields' own validators (its tax rate is resolved by the caller)."""
    clean(product, exclude=["tax_rate"], unique=unique)


@transaction.atomic
def product_create(
    *,
    by,
    via,
    sku: str,
    title: str,
    price: Decimal,
    tax_rate,
    description: str = "",
    is_active: bool = True,
) -> Product:
    """Create a product; `tax_rate` is a TaxRate or its id (a field error if unknown)."""
    product = Product(
        sku=sku,
        title=title,
        description=description,
        price=price,
        tax_rate=resolve(TaxRate, tax_rate, "tax_rate"),
        is_active=is_active,
    )
    validate_product(product)
    save_unique(product)
    record_change(product, ChangeAction.CREATE, snapshot(product, PRODUCT_FIELDS), by=by, via=via)
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    by,
    via,
    expected_version: int | None = None,
    sku: str = UNSET,
    title: str = UNSET,
    description: str = UNSET,
    price: Decimal = UNSET,
    tax_rate=UNSET,
    is_active: bool = UNSET,
) -> Product:
    """Change the given fields (`StaleVersion` if `expected_version` is not the row's)."""
    if tax_rate is not UNSET:
        tax_rate = resolve(TaxRate, tax_rate, "tax_rate")
    values = {
        "sku": sku,
        "title": title,
        "description": description,
        "price": price,
        "tax_rate": tax_rate,
        "is_active": is_active,
    }
    return record_update(
        Product,
        product,
        values,
        validate=validate_product,
        expected_version=expected_version,
        by=by,
        via=via,
    )


@transaction.atomic
def product_delete(*, product: Product, by, via, expected_version: int | None = None) -> None:
    """Invoice lines keep their description, price and tax rate; their `product` empties."""
    product = locked(Product, product, expected_version)
    delete_recorded(product, by=by, via=via, what="product")
