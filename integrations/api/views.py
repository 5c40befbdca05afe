"""Connections API: each view parses input, calls one service, shapes the answer."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import throttles
from integrations import selectors, services
from integrations.models import Connection, SyncRun
from project.api.permissions import ModelPermissions
from project.api.views import ServiceViewSet, service_schema
from records import selectors as records_selectors

from . import serializers as s
from .filters import ConnectionFilter, SyncRunFilter


class CanRunSync(ModelPermissions):
    """Triggering a sync of a connection needs `integrations.run_sync`."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.run_sync"]}


class CanChangeConnection(ModelPermissions):
    """Operations on a connection (`test`) need `change_connection`."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


@service_schema(s.ConnectionCreateSerializer, s.ConnectionUpdateSerializer, s.ConnectionSerializer)
class ConnectionViewSet(ServiceViewSet):
    """Accounting connections: Administrators manage them, Employees see them.

    `api_token` is write-only. `DELETE` disables the connection and erases its API
    token; the row stays because sync runs, links and the outbox refer to it. `PATCH`
    `{"status": "active", "api_token": ...}` brings it back.
    """

    queryset = Connection.objects.all()  # the model for ModelPermissions; rows: get_queryset
    serializer_class = s.ConnectionSerializer
    input_serializer_class = s.ConnectionCreateSerializer
    update_serializer_class = s.ConnectionUpdateSerializer
    filterset_class = ConnectionFilter
    search_fields = ["name", "administration_id"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.connection_list()

    def service_create(self, data):
        return services.connection_create(**data, by=self.request.user)

    def service_update(self, obj, data, version):
        services.connection_update(connection=obj, by=self.request.user, **data)

    def service_delete(self, obj, version):
        services.connection_disable(connection=obj, by=self.request.user, erase_credentials=True)

    @extend_schema(
        request=None,
        responses={202: s.SyncRunSerializer, 409: OpenApiResponse(
            description="A sync of this connection is already queued or running (`run_id`), "
            "or the connection is not active."
        )},
    )  # fmt: skip
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[CanRunSync],
        throttle_classes=throttles.SYNC,
    )
    def sync(self, request, pk=None):
        """Pull from the accounting system now: 202 with the queued run to poll."""
        run = services.sync_run_start(connection=self.get_object(), by=request.user)
        response = Response(s.SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(
            reverse("sync-runs-detail", args=[run.pk])
        )
        return response

    @extend_schema(request=None, responses=s.ConnectionCheckSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanChangeConnection])
    def test(self, request, pk=None):
        """Check the credentials against the provider; 200 with the outcome either way."""
        result = services.connection_test(connection=self.get_object(), by=request.user)
        return Response(result.as_dict())


class CanSendInvoice(permissions.BasePermission):
    """Sending an invoice is part of finalizing it: `records.finalize_invoice`."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("records.finalize_invoice"))


class InvoiceSendView(generics.GenericAPIView):
    """`POST /api/v1/invoices/{id}/send/`: push an open (or late) invoice to the
    accounting system. 202 with the push's state (its `send_invoice` item and steps),
    also when it was pushed before (no duplicate); poll the invoice's `accounting`.
    409 for a draft or cancelled invoice, or when no connection is active."""

    permission_classes = [CanSendInvoice]
    serializer_class = s.OutboxItemSerializer
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        return records_selectors.invoice_list(viewer=self.request.user)

    @extend_schema(request=None, responses={202: s.OutboxItemSerializer})
    def post(self, request, *args, **kwargs):
        invoice = self.get_object()
        items = services.invoice_send(invoice=invoice, by=request.user)
        item = min(items, key=lambda i: (i.connection.name, str(i.connection_id)))
        response = Response(self.get_serializer(item).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(
            reverse("invoices-detail", args=[invoice.pk])
        )
        return response


class SyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Sync runs (pulls from the accounting system), newest first: status, progress,
    counts, errors, who started them. Every role may read them; start one with
    `POST /api/v1/integrations/connections/{id}/sync/`."""

    queryset = SyncRun.objects.all()  # the model for ModelPermissions; rows: get_queryset
    serializer_class = s.SyncRunSerializer
    filterset_class = SyncRunFilter
    ordering_fields = ["queued_at"]
    ordering = ["-queued_at"]

    def get_queryset(self):
        return selectors.sync_run_list()
