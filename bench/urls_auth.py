"""Bench-only URLs for the authentication benchmark (never in production URLs).

`/bench/users-me-noauth?user=<id>&role=<role>` renders exactly what
`GET /api/v1/users/me/` renders, through DRF, with authentication switched off: the
user is loaded by id (the query the token check also makes), the role is given as the
token's grant gives it. The difference between the two is the cost of authentication.
"""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import UserSerializer
from accounts.models import User
from accounts.roles import Role
from bench.urls import handler404, handler500
from bench.urls import urlpatterns as bench_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


class MeWithoutAuthentication(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        user = User.objects.get(pk=request.query_params["user"], is_active=True)
        user.__dict__["_role"] = Role(request.query_params["role"])
        request.user = user
        return Response(UserSerializer(user, context={"request": request}).data)


urlpatterns = [
    path("bench/users-me-noauth", MeWithoutAuthentication.as_view()),
    *bench_urlpatterns,
]
