"""Project-level views: the health check and JSON error pages for `/api/` paths."""

import logging

from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .api.errors import problem_response
from .tasks import broker_check

logger = logging.getLogger(__name__)

HEALTH_CACHE_KEY = "healthz:probe"


def _check_database() -> None:
    connection.ensure_connection()
    if not connection.is_usable():
        raise RuntimeError("the database connection is not usable")


def _check_cache() -> None:
    cache.set(HEALTH_CACHE_KEY, "ok", timeout=10)
    if cache.get(HEALTH_CACHE_KEY) != "ok":
        raise RuntimeError("cache did not return the value just written")


HEALTH_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": broker_check}


@never_cache
@require_GET
def healthz(request):
    """200 when database, cache and broker answer; 503 naming the failing checks.

    No authentication, and nothing in the body beyond "ok"/"error" per check: no
    versions, hosts or error messages (those go to the log).
    """
    checks = {}
    for name, check in HEALTH_CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception:
            logger.exception("health check %s failed", name)
            checks[name] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return problem_response(413, "The request body is too large.")
        return problem_response(400, "The request could not be understood.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return problem_response(403, "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return problem_response(404, "Not found.")
    return defaults.page_not_found(request, exception)


@csrf_exempt
def api_fallback(request, path=""):
    """Every `/api/` path no other URL matched (the last pattern of the URLconf).

    Without its trailing slash a path is served by the view of the path with it (no
    redirect, which would drop a POST's body; no RuntimeError in DEBUG) when that view
    checks CSRF itself, as every DRF view does. Anything else is a 404 in the error
    shape, in DEBUG too (where Django would render its HTML page for a 404).
    """
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if (
            match is not None
            and match.func is not api_fallback
            and getattr(match.func, "csrf_exempt", False)
        ):
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
    return problem_response(404, "Not found.")


def server_error(request):
    if _is_api(request):
        return problem_response(500, "An unexpected error occurred. It has been logged.")
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """CSRF rejections on `/api/` in the error shape; Django's page elsewhere."""
    if _is_api(request):
        return problem_response(403, "CSRF check failed: send the X-CSRFToken header.")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)
