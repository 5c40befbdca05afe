"""Records API: each view parses input, calls one service, answers with the fresh row."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action

from project.api.pagination import CursorPagination
from project.api.validation import validated_data
from project.api.views import ServiceViewSet, service_schema
from records import selectors, services
from records.models import Interface

from . import serializers as s
from .filters import ContactFilter, InvoiceFilter, ProductFilter
from .permissions import RecordPermissions


class HistoryPagination(CursorPagination):
    """Newest change first; `?ordering=` is the resource's, not the history's."""

    def get_ordering(self, request, queryset, view):
        return ("-created_at",)


class RecordViewSet(ServiceViewSet):
    """List, create, retrieve, PATCH (If-Match), DELETE and `history/` of one resource.

    Subclasses name their selector, serializers and the three services.
    """

    permission_classes = [RecordPermissions]
    versioned = True

    def actor(self) -> dict:
        return {"by": self.request.user, "via": Interface.API}

    @extend_schema(
        responses=s.ChangeRecordSerializer(many=True),
        parameters=[OpenApiParameter("page_size", OpenApiTypes.INT)],
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination, filter_backends=[])
    def history(self, request, *args, **kwargs):
        """Who changed what, when and through which interface (newest first)."""
        obj = self.get_object()
        page = self.paginate_queryset(selectors.history_list(obj=obj))
        return self.get_paginated_response(s.ChangeRecordSerializer(page, many=True).data)


def record_schema(input_serializer, update_serializer, output):
    """drf-spectacular annotations of the write methods a RecordViewSet inherits."""
    return service_schema(input_serializer, update_serializer, output, versioned=True)


@record_schema(s.TaxRateInputSerializer, s.TaxRateInputSerializer, s.TaxRateSerializer)
class TaxRateViewSet(RecordViewSet):
    """Tax rates: every role reads them; Administrators change them. A new percentage
    recomputes the drafts using the rate; finalized invoices keep their totals."""

    queryset = selectors.tax_rate_list()
    serializer_class = s.TaxRateSerializer
    input_serializer_class = s.TaxRateInputSerializer
    update_serializer_class = s.TaxRateInputSerializer
    ordering_fields = ["created_at", "percentage", "name"]

    def get_queryset(self):
        return selectors.tax_rate_list(viewer=self.request.user)

    def service_create(self, data):
        return services.taxrate_create(**data, **self.actor())

    def service_update(self, obj, data, version):
        services.taxrate_update(tax_rate=obj, expected_version=version, **data, **self.actor())

    def service_delete(self, obj, version):
        services.taxrate_delete(tax_rate=obj, expected_version=version, **self.actor())


@record_schema(s.ContactInputSerializer, s.ContactInputSerializer, s.ContactSerializer)
class ContactViewSet(RecordViewSet):
    """Contacts (customers). Without a `customer_number` the next free one is assigned.
    A contact with invoices cannot be deleted (409)."""

    queryset = selectors.contact_list()
    serializer_class = s.ContactSerializer
    input_serializer_class = s.ContactInputSerializer
    update_serializer_class = s.ContactInputSerializer
    filterset_class = ContactFilter
    search_fields = ["company_name", "first_name", "last_name", "email", "customer_number", "city"]
    ordering_fields = ["created_at", "customer_number", "company_name", "last_name"]

    def get_queryset(self):
        return selectors.contact_list(viewer=self.request.user)

    def service_create(self, data):
        return services.contact_create(**data, **self.actor())

    def service_update(self, obj, data, version):
        services.contact_update(contact=obj, expected_version=version, **data, **self.actor())

    def service_delete(self, obj, version):
        services.contact_delete(contact=obj, expected_version=version, **self.actor())


@record_schema(s.ProductInputSerializer, s.ProductUpdateSerializer, s.ProductSerializer)
class ProductViewSet(RecordViewSet):
    """Products with their price (excluding tax) and tax rate."""

    queryset = selectors.product_list()
    serializer_class = s.ProductSerializer
    input_serializer_class = s.ProductInputSerializer
    update_serializer_class = s.ProductUpdateSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "title", "description"]
    ordering_fields = ["created_at", "sku", "title", "price"]

    def get_queryset(self):
        return selectors.product_list(viewer=self.request.user)

    def service_create(self, data):
        return services.product_create(**data, **self.actor())

    def service_update(self, obj, data, version):
        services.product_update(product=obj, expected_version=version, **data, **self.actor())

    def service_delete(self, obj, version):
        services.product_delete(product=obj, expected_version=version, **self.actor())


@record_schema(s.InvoiceInputSerializer, s.InvoiceUpdateSerializer, s.InvoiceSerializer)
class InvoiceViewSet(RecordViewSet):
    """Invoices with lines, totals and payments. `status` shows `late` for open invoices
    past due. Lines change only while draft; only drafts can be deleted (else 409)."""

    queryset = selectors.invoice_list()
    serializer_class = s.InvoiceSerializer
    input_serializer_class = s.InvoiceInputSerializer
    update_serializer_class = s.InvoiceUpdateSerializer
    filterset_class = InvoiceFilter
    search_fields = ["number", "notes", "contact__company_name", "contact__last_name"]
    ordering_fields = ["created_at", "issue_date", "due_date", "total"]
    action_permissions = {
        "finalize": ["records.finalize_invoice"],
        "cancel": ["records.cancel_invoice"],
        "payments": ["records.add_payment"],
    }

    def get_queryset(self):
        return selectors.invoice_list(viewer=self.request.user)

    def service_create(self, data):
        return services.invoice_create(**data, **self.actor())

    def service_update(self, obj, data, version):
        services.invoice_update(invoice=obj, expected_version=version, **data, **self.actor())

    def service_delete(self, obj, version):
        services.invoice_delete(invoice=obj, expected_version=version, **self.actor())

    @extend_schema(request=None, responses={200: s.InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def finalize(self, request, *args, **kwargs):
        """Draft -> open with the next number of its issue year (`2026-0001`); 409 if not
        a draft, 400 without lines."""
        invoice = self.get_object()
        services.invoice_finalize(invoice=invoice, **self.actor())
        return self.present(invoice)

    @extend_schema(request=None, responses={200: s.InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        """Draft or unpaid open invoice -> cancelled; 409 when paid, cancelled or with
        payments."""
        invoice = self.get_object()
        services.invoice_cancel(invoice=invoice, **self.actor())
        return self.present(invoice)

    @extend_schema(
        request=s.PaymentInputSerializer,
        responses={201: OpenApiResponse(s.InvoiceSerializer, description="The invoice.")},
    )
    @action(detail=True, methods=["post"])
    def payments(self, request, *args, **kwargs):
        """Register a payment; answers with the invoice (paid when nothing is due)."""
        invoice = self.get_object()
        data = validated_data(s.PaymentInputSerializer, request)
        services.payment_register(invoice=invoice, **data, **self.actor())
        return self.present(invoice, status.HTTP_201_CREATED)
