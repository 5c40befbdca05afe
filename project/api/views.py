"""The base of the API's resource views: a view parses input, calls one service, answers
with the fresh row.

- Ids in URLs: `project.api.routers.Router` matches them with one converter (a malformed
  id is a 404 before any view runs, the same way in every app).
- `ServiceViewSet`: list and retrieve as DRF does them; `create`, `partial_update` and
  `destroy` validate the body with the view's input serializer and call the view's
  `service_create` / `service_update` / `service_delete`. Domain errors raised there
  (`project.errors`) become 409 / 412 in the exception handler, never in the view.
- Versioned resources (`versioned = True`, rows with a `version`) answer with an `ETag`
  and take `If-Match` on `PATCH` and `DELETE` (`expected_version`): the service refuses a
  stale version with `StaleVersion` (412).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from project.errors import StaleVersion

from .validation import validated_data

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The `version` you read (`"3"` or `3`): 412 if the row has changed since.',
)


def expected_version(request) -> int | None:
    """The version named by `If-Match` (None without one, or for `*`); a header that
    names no version matches no row: `StaleVersion` (412)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise StaleVersion
    return int(value)


class ServiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """List, retrieve, create, `PATCH` and `DELETE` of one resource through its services.

    Subclasses name `queryset` (the model, for permissions), `get_queryset` (the
    selector), `serializer_class` (output), `input_serializer_class` and
    `update_serializer_class`, and implement the `service_*` methods they serve (a
    method left out is a 405 only if `http_method_names` leaves it out too).
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    input_serializer_class = None
    update_serializer_class = None
    versioned = False  # rows carry `version`: ETag out, If-Match in

    def service_create(self, data: dict):
        raise NotImplementedError

    def service_update(self, obj, data: dict, version: int | None) -> None:
        raise NotImplementedError

    def service_delete(self, obj, version: int | None) -> None:
        raise NotImplementedError

    def expected_version(self) -> int | None:
        return expected_version(self.request) if self.versioned else None

    def respond(self, obj, status_code=status.HTTP_200_OK) -> Response:
        """`obj` as the output serializer shows it (with its ETag when versioned)."""
        response = Response(self.get_serializer(obj).data, status=status_code)
        if self.versioned:
            response["ETag"] = f'"{obj.version}"'
        return response

    def present(self, obj, status_code=status.HTTP_200_OK) -> Response:
        """The row after a write, read again through the selector."""
        return self.respond(self.get_queryset().get(pk=obj.pk), status_code)

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object())

    def create(self, request, *args, **kwargs):
        data = validated_data(self.input_serializer_class, request)
        return self.present(self.service_create(data), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        version = self.expected_version()
        data = validated_data(self.update_serializer_class, request, partial=True)
        self.service_update(obj, data, version)
        return self.present(obj)

    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        self.service_delete(obj, self.expected_version())
        return Response(status=status.HTTP_204_NO_CONTENT)


def service_schema(input_serializer, update_serializer, output, *, versioned: bool = False):
    """drf-spectacular annotations of the write methods a `ServiceViewSet` inherits."""
    if_match = [IF_MATCH] if versioned else []
    return extend_schema_view(
        create=extend_schema(request=input_serializer, responses={201: output}),
        partial_update=extend_schema(
            request=update_serializer, responses={200: output}, parameters=if_match
        ),
        destroy=extend_schema(parameters=if_match, responses={204: None}),
    )
