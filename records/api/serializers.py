"""Records API: input serializers (one per write, types only) and output serializers.

Input serializers parse and type-check; the rules (a due date after the issue date, a
known tax rate, no overpayment...) live in `records.services`, so admin and sync get
them too. Money goes out as decimal strings. Output serializers take `FastOutputMixin`
(the same output, without DRF's per-field overhead on plain columns: lists stay cheap).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from project.api.serializers import FastOutputMixin, StrictInputSerializer
from records import selectors
from records.models import (
    STATUS_CHOICES,
    AccountingStatus,
    ChangeRecord,
    Contact,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    Product,
    TaxRate,
)


def _names(*models) -> set[str]:
    names = set()
    for model in models:
        names |= {field.name for field in model._meta.get_fields()}
    return names


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


# --- Output -----------------------------------------------------------------------------


class TaxRateSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = TaxRate
        fields = ["id", "name", "percentage", "version", "created_at", "updated_at"]


class ContactSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id", "customer_number", "company_name", "first_name", "last_name", "email",
            "phone", "address_line1", "address_line2", "postal_code", "city", "country",
            "tax_number", "chamber_of_commerce", "version", "created_at", "updated_at",
        ]  # fmt: skip


class ProductSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id", "sku", "title", "description", "price", "tax_rate", "is_active", "version",
            "created_at", "updated_at",
        ]  # fmt: skip


class InvoiceLineSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "product", "description", "quantity", "unit_price", "tax_rate", "amount"]


class PaymentSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "amount", "date", "method", "reference", "created_at"]


class TaxBreakdownSerializer(FastOutputMixin, serializers.Serializer):
    """Tax per rate: `base` is the sum of that rate's line amounts, `tax` rounded once."""

    tax_rate = serializers.UUIDField()
    name = serializers.CharField()
    percentage = serializers.DecimalField(max_digits=5, decimal_places=2)
    base = money()
    tax = money()


class InvoiceAccountingSerializer(FastOutputMixin, serializers.Serializer):
    """Where the invoice stands in the accounting system (`status` empty: not pushed)."""

    status = serializers.ChoiceField(
        source="accounting_status", choices=[("", "Not pushed"), *AccountingStatus.choices]
    )
    remote_id = serializers.CharField(source="accounting_remote_id")
    remote_number = serializers.CharField(source="accounting_remote_number")
    last_error = serializers.CharField(source="accounting_last_error")
    synced_at = serializers.DateTimeField(source="accounting_synced_at", allow_null=True)


class InvoiceSerializer(FastOutputMixin, serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    accounting = InvoiceAccountingSerializer(source="*", read_only=True)
    total_due = money(read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    tax_breakdown = TaxBreakdownSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "status", "contact", "currency", "issue_date", "due_date", "notes",
            "lines", "subtotal", "tax_total", "total", "total_paid", "total_due",
            "tax_breakdown", "payments", "created_by", "finalized_at", "paid_at",
            "cancelled_at", "accounting", "version", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=STATUS_CHOICES))
    def get_status(self, invoice) -> str:
        """The stored status, or `late` for an open invoice past its due date."""
        return selectors.effective_status(invoice)


class ChangeRecordSerializer(FastOutputMixin, serializers.ModelSerializer):
    actor_email = serializers.EmailField(source="actor.email", read_only=True, default=None)
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text="`{field: [old, new]}`",
    )

    class Meta:
        model = ChangeRecord
        fields = ["id", "action", "actor", "actor_email", "via", "changes", "created_at"]


# --- Input ------------------------------------------------------------------------------


class RecordInput(StrictInputSerializer):
    known_field_names = _names(Contact, Product, TaxRate, Invoice, InvoiceLine, Payment) | {
        "total_due",
    }


class TaxRateInputSerializer(RecordInput):
    name = serializers.CharField(max_length=100)
    percentage = serializers.DecimalField(max_digits=5, decimal_places=2)


class ContactInputSerializer(RecordInput):
    customer_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2"
    )
    tax_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    chamber_of_commerce = serializers.CharField(max_length=50, required=False, allow_blank=True)


class ProductInputSerializer(RecordInput):
    sku = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = money(min_value=0)
    tax_rate = serializers.UUIDField()
    is_active = serializers.BooleanField(required=False, default=True)


class ProductUpdateSerializer(ProductInputSerializer):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class InvoiceLineInputSerializer(RecordInput):
    """A line; with a `product`, missing description, price and tax rate come from it."""

    product = serializers.UUIDField(required=False, allow_null=True)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)
    unit_price = money(required=False, min_value=0)
    tax_rate = serializers.UUIDField(required=False)


class InvoiceInputSerializer(RecordInput):
    contact = serializers.UUIDField()
    currency = serializers.CharField(max_length=3, required=False, default="EUR")
    issue_date = serializers.DateField(required=False, help_text="Default: today.")
    due_date = serializers.DateField(required=False, help_text="Default: 30 days after issue.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    lines = InvoiceLineInputSerializer(many=True, required=False, default=list)


class InvoiceUpdateSerializer(RecordInput):
    """A draft's fields; `lines`, when given, replace all lines. Finalized: `notes` only."""

    contact = serializers.UUIDField(required=False)
    currency = serializers.CharField(max_length=3, required=False)
    issue_date = serializers.DateField(required=False)
    due_date = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    lines = InvoiceLineInputSerializer(many=True, required=False)


class PaymentInputSerializer(RecordInput):
    amount = money()
    date = serializers.DateField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
