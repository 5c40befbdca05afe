"""One FilterSet per records resource (`?search=` and `?ordering=` come from DRF)."""

from django_filters import rest_framework as filters

from records import selectors
from records.models import STATUS_CHOICES, Contact, Invoice, Product


class ContactFilter(filters.FilterSet):
    country = filters.CharFilter(method="filter_country", label="ISO 3166-1 alpha-2 code")
    customer_number = filters.CharFilter()
    created_after = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)"
    )

    class Meta:
        model = Contact
        fields = []

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value.strip().upper())


class ProductFilter(filters.FilterSet):
    price__gte = filters.NumberFilter(field_name="price", lookup_expr="gte")
    price__lte = filters.NumberFilter(field_name="price", lookup_expr="lte")
    tax_rate = filters.UUIDFilter(field_name="tax_rate_id")
    is_active = filters.BooleanFilter()

    class Meta:
        model = Product
        fields = []


class InvoiceFilter(filters.FilterSet):
    """`status=late` means open and past due; `status=open` then excludes late ones."""

    status = filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status")
    contact = filters.UUIDFilter(field_name="contact_id")
    issue_date__gte = filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issue_date__lte = filters.DateFilter(field_name="issue_date", lookup_expr="lte")
    due_date__lt = filters.DateFilter(field_name="due_date", lookup_expr="lt")
    total__gte = filters.NumberFilter(field_name="total", lookup_expr="gte")
    total__lte = filters.NumberFilter(field_name="total", lookup_expr="lte")
    number = filters.CharFilter()

    class Meta:
        model = Invoice
        fields = []

    def filter_status(self, queryset, name, value):
        return selectors.invoice_status_filter(queryset, value)
