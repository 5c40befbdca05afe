"""Reads of records: which rows a caller sees, and what each list loads with it.

Every role may read every record (DESIGN.md), so a `viewer` with the model's view
permission sees all rows and one without it none (`viewer=None` is the system: tasks,
commands). The interfaces check the permission too; these functions are still the one
place REST, admin and later GraphQL get their rows from, so no interface sees more than
another, with the joins and prefetches that keep a page's query count independent of
its size.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from .models import (
    LATE,
    ChangeRecord,
    Contact,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Product,
    TaxRate,
)


def _visible(queryset: QuerySet, viewer) -> QuerySet:
    """The rows of `queryset` that `viewer` may read: all with the model's view
    permission, none without; all for the system (`viewer=None`)."""
    if viewer is None:
        return queryset
    meta = queryset.model._meta
    if viewer.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        return queryset
    return queryset.none()


def tax_rate_list(*, viewer=None) -> QuerySet[TaxRate]:
    return _visible(TaxRate.objects.all(), viewer)


def contact_list(*, viewer=None) -> QuerySet[Contact]:
    return _visible(Contact.objects.all(), viewer)


def product_list(*, viewer=None) -> QuerySet[Product]:
    return _visible(Product.objects.all(), viewer)


def late_q(today=None) -> Q:
    """Open invoices past their due date: `late` is derived, never stored."""
    return Q(status=InvoiceStatus.OPEN, due_date__lt=today or timezone.localdate())


def with_effective_status(queryset: QuerySet[Invoice], today=None) -> QuerySet[Invoice]:
    """Annotate `effective_status`: the stored status, or `late` (see `late_q`)."""
    return queryset.annotate(
        effective_status=Case(
            When(late_q(today), then=Value(LATE)),
            default=F("status"),
            output_field=CharField(),
        )
    )


def invoice_list(*, viewer=None) -> QuerySet[Invoice]:
    """Invoices with contact, lines and payments: three queries for any page size."""
    queryset = Invoice.objects.select_related("contact").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
        "payments",
    )
    return with_effective_status(_visible(queryset, viewer))


def invoice_status_filter(queryset: QuerySet[Invoice], status: str) -> QuerySet[Invoice]:
    """`status=late` and `status=open` as the API shows them (open excludes late)."""
    today = timezone.localdate()
    if status == LATE:
        return queryset.filter(late_q(today))
    if status == InvoiceStatus.OPEN:
        return queryset.filter(status=InvoiceStatus.OPEN).exclude(late_q(today))
    return queryset.filter(status=status)


def effective_status(invoice: Invoice) -> str:
    """The status as shown: works on annotated rows and on plain instances alike."""
    annotated = getattr(invoice, "effective_status", None)
    if annotated:
        return annotated
    if invoice.status == InvoiceStatus.OPEN and invoice.due_date < timezone.localdate():
        return LATE
    return invoice.status


def history_list(*, obj) -> QuerySet[ChangeRecord]:
    """The change history of one record, newest first."""
    return ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).select_related("actor")
