"""factory_boy factories for records, made through the services (numbering, totals,
history and domain events as in production):

    invoice = InvoiceFactory(lines=[LineFactory(unit_price="129.95")], finalize=True)
    rate = TaxRateFactory(percentage=9)   # the seeded 9 % rate, or a new one

`by=` is the acting user (None by default); writes are recorded as made through the API.
"""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from records import services
from records.models import Contact, Interface, Invoice, Product, TaxRate


class TaxRateFactory(DjangoModelFactory):
    """A seeded rate (21, 9 or 0), or a new one with that percentage."""

    class Meta:
        model = TaxRate

    percentage = 21
    name = factory.LazyAttribute(lambda rate: f"{rate.percentage}%")

    @classmethod
    def _create(cls, model_class, *, percentage, name):
        percentage = Decimal(str(percentage))
        rate = TaxRate.objects.filter(percentage=percentage).first()
        if rate is None:
            rate = services.taxrate_create(
                name=name, percentage=percentage, by=None, via=Interface.API
            )
        return rate


class ContactFactory(DjangoModelFactory):
    """A company "Acme B.V." unless a first or last name is given."""

    class Meta:
        model = Contact

    by = None

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        if not (fields.get("first_name") or fields.get("last_name")):
            fields.setdefault("company_name", "Acme B.V.")
        return services.contact_create(**fields, by=by, via=Interface.API)


class ProductFactory(DjangoModelFactory):
    """A product at `price` with the tax rate of `rate` percent."""

    class Meta:
        model = Product

    class Params:
        rate = 21

    by = None
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    title = factory.LazyAttribute(lambda product: f"Product {product.sku}")
    price = "10.00"
    tax_rate = factory.SubFactory(TaxRateFactory, percentage=factory.SelfAttribute("..rate"))

    @classmethod
    def _create(cls, model_class, *, by, price, **fields):
        return services.product_create(
            price=Decimal(str(price)), **fields, by=by, via=Interface.API
        )


class LineFactory(factory.DictFactory):
    """An invoice line as the services take it (a dict), `rate` percent tax."""

    class Params:
        rate = 21

    description = "Work"
    quantity = "1"
    unit_price = "10.00"
    tax_rate = factory.SubFactory(TaxRateFactory, percentage=factory.SelfAttribute("..rate"))

    @classmethod
    def _build(cls, model_class, *args, **fields):
        fields["quantity"] = Decimal(str(fields["quantity"]))
        fields["unit_price"] = Decimal(str(fields["unit_price"]))
        return super()._build(model_class, *args, **fields)

    _create = _build


class InvoiceFactory(DjangoModelFactory):
    """A draft invoice for a new contact with one line; `finalize=True` numbers it."""

    class Meta:
        model = Invoice

    by = None
    finalize = False
    contact = factory.SubFactory(ContactFactory, by=factory.SelfAttribute("..by"))
    lines = factory.LazyFunction(lambda: [LineFactory()])

    @classmethod
    def _create(cls, model_class, *, by, finalize, **fields):
        invoice = services.invoice_create(**fields, by=by, via=Interface.API)
        if finalize:
            invoice = services.invoice_finalize(invoice=invoice, by=by, via=Interface.API)
        return invoice
