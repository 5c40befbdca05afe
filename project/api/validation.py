"""Input validation for API views: a serializer's data, and a service's field errors.

Services raise Django's `ValidationError` with a field dict; views turn it into DRF's,
so it renders as a 400 in the error shape (`project.api.errors`).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers


def validated_data(serializer_class, request, **kwargs) -> dict:
    """The request body validated by `serializer_class` (a 400 when it is not valid)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def raise_validation(exc: DjangoValidationError):
    """A service's field errors as a 400 in the error shape."""
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    raise serializers.ValidationError(detail) from exc
