"""Records: contacts, products, tax rates, invoices with lines and payments, history.

Money is `DecimalField` everywhere. Invoice totals are stored (so list filters on them
are plain columns) and recomputed by `records.services` on every change; nothing here
computes or validates business rules in `save()`.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from project.models import TimestampedModel, UUIDModel

MONEY = {"max_digits": 14, "decimal_places": 2}


class RecordModel(UUIDModel, TimestampedModel):
    """UUID key, timestamps (`created_at` indexed: lists are ordered by it) and a
    `version` bumped by every service write (If-Match)."""

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True


class TaxRate(RecordModel):
    """A VAT rate that lines and products refer to (seeded: 21 %, 9 %, 0 %)."""

    name = models.CharField(max_length=100)
    percentage = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["-percentage", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percentage__gte=0, percentage__lte=100),
                name="records_taxrate_percentage_range",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.percentage.normalize():f} %)"


class Contact(RecordModel):
    """A customer: a company, or a person by first and last name."""

    customer_number = models.CharField(max_length=32, unique=True)
    company_name = models.CharField(max_length=200, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    tax_number = models.CharField(max_length=50, blank=True)
    chamber_of_commerce = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(company_name="") | (~Q(first_name="") & ~Q(last_name="")),
                name="records_contact_has_name",
                violation_error_message="Give a company name, or a first and a last name.",
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.company_name or f"{self.first_name} {self.last_name}".strip()


class Product(RecordModel):
    """Something sold: a unique SKU, a price (excluding tax) and its tax rate."""

    sku = models.CharField("SKU", max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["price"], name="records_product_price_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="records_product_price_gte_0")
        ]

    def __str__(self):
        return f"{self.sku} {self.title}"


class InvoiceStatus(models.TextChoices):
    """Stored states. `late` is never stored: an open invoice past its due date."""

    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class AccountingStatus(models.TextChoices):
    """An invoice in the accounting system; empty until it is pushed."""

    PENDING = "pending", "Waiting to be pushed"
    CREATED = "created", "Created there as a draft"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (a person must look)"
    PAUSED = "paused", "Paused (the connection needs attention)"


LATE = "late"
STATUS_CHOICES = [*InvoiceStatus.choices[:2], (LATE, "Late"), *InvoiceStatus.choices[2:]]


class Invoice(RecordModel):
    """A sales invoice; its number is assigned when it leaves draft (`services.numbering`)."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(max_length=3, default="EUR")
    issue_date = models.DateField()
    due_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    number = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    subtotal = models.DecimalField(**MONEY, default=0, editable=False)
    tax_total = models.DecimalField(**MONEY, default=0, editable=False)
    total = models.DecimalField(**MONEY, default=0, editable=False)
    total_paid = models.DecimalField(**MONEY, default=0, editable=False)
    tax_breakdown = models.JSONField(default=list, editable=False, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Where the invoice stands in the accounting system, written by the sync through
    # `services.accounting` (no version bump, no history: it is the sync's state, not a
    # change of the invoice). Records knows nothing of integrations.
    accounting_status = models.CharField(
        max_length=16, choices=AccountingStatus.choices, blank=True, default="", editable=False
    )
    accounting_remote_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    accounting_remote_number = models.CharField(
        max_length=64, blank=True, default="", editable=False
    )
    accounting_last_error = models.TextField(blank=True, default="", editable=False)
    accounting_synced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("finalize_invoice", "Can finalize and send invoices"),
            ("cancel_invoice", "Can cancel invoices"),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="records_invoice_status_due_idx"),
            models.Index(fields=["issue_date"], name="records_invoice_issue_date_idx"),
            models.Index(fields=["total"], name="records_invoice_total_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("issue_date")),
                name="records_invoice_due_after_issue",
                violation_error_message="The due date cannot be before the issue date.",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | ~Q(status=InvoiceStatus.DRAFT),
                name="records_invoice_draft_has_no_number",
            ),
        ]

    def __str__(self):
        return self.number or f"Draft {str(self.pk)[:8]}"

    @property
    def total_due(self):
        return self.total - self.total_paid


class InvoiceLine(UUIDModel):
    """One line: quantity x unit price (excluding tax) at a tax rate; `amount` is computed."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(
        max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY, default=0, editable=False)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0) & Q(unit_price__gte=0),
                name="records_line_not_negative",
            ),
        ]

    def __str__(self):
        return self.description


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    OTHER = "other", "Other"


class Payment(UUIDModel):
    """Money received for an invoice (partial payments allowed, never more than due)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(**MONEY)
    date = models.DateField()
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="records_payment_positive")
        ]

    def __str__(self):
        return f"{self.amount} on {self.date}"


class NumberSequence(models.Model):
    """A counter (`invoice:2026`, `contact`), locked with SELECT ... FOR UPDATE to draw."""

    key = models.CharField(max_length=32, unique=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.last_value}"


class Interface(models.TextChoices):
    """Through which interface a change was made."""

    API = "api", "API"
    ADMIN = "admin", "Admin"
    SYNC = "sync", "Sync"
    SYSTEM = "system", "System"  # migrations, management commands


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    FINALIZE = "finalize", "Finalized"
    CANCEL = "cancel", "Cancelled"
    PAYMENT = "payment", "Payment registered"


class ChangeRecord(models.Model):
    """One change of a record: who, when, through which interface, fields old -> new.

    Written by the services (never by signals), so every interface records alike.
    `changes` is `{field: [old, new]}` with JSON values (decimals and dates as strings).
    """

    id = models.BigAutoField(primary_key=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.UUIDField()
    action = models.CharField(max_length=16, choices=ChangeAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=8, choices=Interface.choices)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "created_at"], name="records_change_obj_idx"
            )
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_id} via {self.via}"
