"""Connections API: each view parses input, calls one service, shapes the answer."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.views import raise_validation
from integrations import selectors, services
from integrations.models import Connection
from project.api.permissions import ModelPermissions

from . import serializers as s
from .filters import ConnectionFilter


class CanChangeConnection(ModelPermissions):
    """Operations on a connection (`test`) need `change_connection`."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


@extend_schema_view(
    create=extend_schema(
        request=s.ConnectionCreateSerializer, responses={201: s.ConnectionSerializer}
    ),
    partial_update=extend_schema(
        request=s.ConnectionUpdateSerializer, responses=s.ConnectionSerializer
    ),
    destroy=extend_schema(responses={204: None}),
)
class ConnectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Accounting connections: Administrators manage them, Employees see them.

    `api_token` is write-only. `DELETE` disables the connection and erases its API
    token; the row stays because sync runs, links and the outbox refer to it. `PATCH`
    `{"status": "active", "api_token": ...}` brings it back.
    """

    queryset = Connection.objects.all()  # the model for ModelPermissions; rows: get_queryset
    serializer_class = s.ConnectionSerializer
    filterset_class = ConnectionFilter
    search_fields = ["name", "administration_id"]
    ordering_fields = ["name", "created_at"]
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.connection_list(viewer=self.request.user)

    def _present(self, connection, status_code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=connection.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def _validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request, *args, **kwargs):
        data = self._validated(s.ConnectionCreateSerializer)
        try:
            connection = services.connection_create(**data, by=request.user)
        except DjangoValidationError as exc:
            raise_validation(exc)
        return self._present(connection, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        connection = self.get_object()
        data = self._validated(s.ConnectionUpdateSerializer)
        try:
            services.connection_update(connection=connection, by=request.user, **data)
        except DjangoValidationError as exc:
            raise_validation(exc)
        return self._present(connection)

    def destroy(self, request, *args, **kwargs):
        connection = self.get_object()
        services.connection_disable(connection=connection, by=request.user, erase_credentials=True)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ConnectionCheckSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanChangeConnection])
    def test(self, request, pk=None):
        """Check the credentials against the provider; 200 with the outcome either way."""
        result = services.connection_test(connection=self.get_object(), by=request.user)
        return Response(result.as_dict())
