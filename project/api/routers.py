"""The API's router: every resource's id is a UUID, matched by one path converter.

`<uuid_id:pk>` matches a UUID in its hyphenated or plain 32-digit hex form, in either
case (what `UUIDField` accepts). Anything else matches no URL: Django's 404, which
`project.views` renders in the error shape before any view runs, the same way for every
app. The schema shows each `{id}` as `format: uuid` (`PATH_CONVERTER_OVERRIDES`). Views
outside a router (`invoices/<uuid_id:pk>/send/`) use the same converter.
"""

from django.urls import register_converter
from rest_framework.routers import SimpleRouter

UUID_ID_CONVERTER = "uuid_id"


class UUIDIdConverter:
    """A UUID, hyphenated or not, in any case; the view gets the text as it came."""

    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(UUIDIdConverter, UUID_ID_CONVERTER)


class Router(SimpleRouter):
    """`SimpleRouter` with `path()` routes and `<uuid_id:pk>` as the default lookup (a
    viewset may still name another converter in `lookup_value_converter`)."""

    def __init__(self, trailing_slash: bool = True) -> None:
        super().__init__(trailing_slash=trailing_slash, use_regex_path=False)
        self._default_value_pattern = UUID_ID_CONVERTER
