"""Bench-only URLs: the project's URLs plus bare reference views (never in production)."""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from project import urls as project_urls


def bare_ok(request):
    """The reference for /healthz: a plain Django view, no checks, no framework."""
    return JsonResponse({"status": "ok"})


class DrfOk(APIView):
    """The same answer through DRF (no auth, no permissions): the framework's own cost."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"status": "ok"})


urlpatterns = [
    path("bench/bare-ok", bare_ok),
    path("bench/drf-ok", DrfOk.as_view()),
    path("", include(project_urls.urlpatterns)),
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500
