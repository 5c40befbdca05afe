"""Test-only URLs: DRF views that raise each kind of error, plus the real project URLs."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from project import urls as project_urls
from project.errors import Conflict, StaleVersion


class EchoInput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    email = serializers.EmailField()


class EchoView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        data = EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class PrivateView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


class CrashView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail")


class BusyConflict(Conflict):
    """A domain error with a fact for the caller, like "sync already running"."""


class DomainErrorView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        kind = request.data.get("kind")
        if kind == "conflict":
            raise BusyConflict("It is busy.", run_id="r-1", status="ignored")
        if kind == "stale":
            raise StaleVersion
        raise Conflict


urlpatterns = [
    path("api/v1/test/domain/", DomainErrorView.as_view()),
    path("api/v1/test/echo/", EchoView.as_view()),
    path("api/v1/test/private/", PrivateView.as_view()),
    path("api/v1/test/crash/", CrashView.as_view()),
    path("", include(project_urls.urlpatterns)),
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
