"""One error shape for every API error (RFC 9457 style).

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "...", "errors": {"field": ["msg"]}}

`exception_handler` covers everything DRF raises, the Django `ValidationError` that
services raise (a 400 naming each field) and the domain errors of `project.errors`
(`Conflict` 409, `StaleVersion` 412, their `extra` facts beside `detail`, e.g. `run_id`),
so views call services and translate nothing; `project.views` gives Django's own
404/405/500 (URLs no view matched, crashes) the same shape for `/api/` paths.
"""

import logging
from http import HTTPStatus

import redis
from django import db
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from project.errors import Conflict, DomainError, StaleVersion

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status_code: int, detail: str, errors: dict | None = None, **extra) -> dict:
    """The error body for `status_code` (`extra`: facts after the standard members)."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "errors": errors or {},
        **extra,
    }


def problem_response(status_code: int, detail: str, errors: dict | None = None) -> JsonResponse:
    """A plain Django response in the error shape (for non-DRF code paths)."""
    return JsonResponse(
        problem(status_code, detail, errors),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into `{"lines.0.quantity": ["msg"]}`."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def validation_detail(exc: DjangoValidationError) -> dict:
    """Django's ValidationError as DRF's detail: its field dict, or non-field messages."""
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


def _summary(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "The request has invalid fields."
    detail = exc.detail
    if isinstance(detail, list | dict):
        return exc.default_detail if isinstance(exc.default_detail, str) else "Request failed."
    return str(detail)


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = Conflict.default_message
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = StaleVersion.default_message
    default_code = "precondition_failed"


# Each domain error base of `project.errors`, most specific first, and its API error.
DOMAIN_ERRORS: tuple[tuple[type[DomainError], type[exceptions.APIException]], ...] = (
    (StaleVersion, PreconditionFailed),
    (Conflict, ConflictError),
)


def _api_error(exc: DomainError) -> exceptions.APIException | None:
    for domain_class, api_class in DOMAIN_ERRORS:
        if isinstance(exc, domain_class):
            return api_class(exc.message)
    return None


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service Ledgerbridge depends on is unavailable; try again shortly."
    default_code = "service_unavailable"


# The cache / token store / broker / database being unreachable is not the caller's fault,
# nor a bug: a 503 (with Retry-After) tells clients to come back, where a 500 would say
# "broken". Django's OperationalError is the database's "could not do it now" (connection
# dropped or refused, SQLite busy); the request's transaction was rolled back with it.
BACKING_SERVICE_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    BrokerError,  # kombu's: `project.tasks.broker_check` found the broker down
    db.OperationalError,
    db.InterfaceError,
)
RETRY_AFTER_SECONDS = 5
_MEMBERS = frozenset(problem(400, ""))  # a domain error's `extra` never overrides these


def exception_handler(exc, context):
    """DRF exception handler that renders every error in the problem shape."""
    if isinstance(exc, BACKING_SERVICE_ERRORS):
        logger.error("API: backing service unavailable: %s", type(exc).__name__)
        exc = ServiceUnavailable()
        exc.wait = RETRY_AFTER_SECONDS  # DRF sets Retry-After from `wait`
    extra = {}
    if isinstance(exc, DomainError) and (api_error := _api_error(exc)) is not None:
        extra = {key: value for key, value in exc.extra.items() if key not in _MEMBERS}
        exc = api_error
    if isinstance(exc, DjangoValidationError):  # a service's field errors: 400, not 500
        exc = exceptions.ValidationError(validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected exception: Django's handler500 renders it
    errors = {}
    if isinstance(exc, exceptions.ValidationError) or isinstance(exc.detail, dict):
        errors = flatten_errors(exc.detail)
    code = response.status_code
    if code == status.HTTP_422_UNPROCESSABLE_ENTITY:
        code = status.HTTP_400_BAD_REQUEST  # validation is always 400 here
    body = problem(code, _summary(exc), errors, **extra)
    headers = {
        k: v for k, v in response.items() if k in {"WWW-Authenticate", "Retry-After", "Allow"}
    }
    return Response(body, status=code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
