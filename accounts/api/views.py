"""Auth and users API: each view parses input, calls one service, shapes the answer."""

from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.lockout import LOCKOUT_DETAIL, cool_off_seconds
from accounts.models import AuthSession, SessionEndReason, User
from accounts.tokens import AccessGrant
from project.api.validation import validated_data
from project.api.views import ServiceViewSet, service_schema

from . import serializers as s
from . import throttles
from .authentication import BEARER_CHALLENGE, enforce_csrf
from .cookies import clear_token_cookies, refresh_cookie_name, set_token_cookies
from .filters import UserFilter

INVALID_CREDENTIALS = "The email address or password is incorrect."
INVALID_REFRESH = "The refresh token is invalid or has expired."


class LockedOutError(exceptions.Throttled):
    """429 with Retry-After, in the error shape."""

    default_detail = LOCKOUT_DETAIL
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."


class PublicAuthView(APIView):
    """Endpoints that work without an access token (a stale one must not get in the way).

    They still answer 401 with the Bearer challenge when credentials are wrong.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return BEARER_CHALLENGE


def _token_response(request, issued, *, app: bool, status_code=status.HTTP_200_OK) -> Response:
    """Tokens in the body for apps, in cookies for browsers."""
    user = s.UserSerializer(issued.user, context={"request": request}).data
    if app:
        body = {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_type": "Bearer",
            "expires_in": request_ttl(issued.access_expires_at),
            "refresh_expires_in": request_ttl(issued.refresh_expires_at),
            "user": user,
        }
        response = Response(body, status=status_code)
    else:
        body = {
            "user": user,
            "access_expires_at": issued.access_expires_at,
            "refresh_expires_at": issued.refresh_expires_at,
        }
        response = Response(body, status=status_code)
        set_token_cookies(response, issued)
    response["Cache-Control"] = "no-store"
    return response


def request_ttl(expires_at) -> int:
    return max(0, round((expires_at - timezone.now()).total_seconds()))


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfView(PublicAuthView):
    """Sets the CSRF cookie and returns the token for the `X-CSRFToken` header."""

    @extend_schema(request=None, responses=s.CsrfTokenSerializer)
    def get(self, request):
        return Response({"csrf_token": get_token(request._request)})


class LoginView(PublicAuthView):
    """Email and password -> a session. Browsers (the default) must send the CSRF token."""

    throttle_classes = throttles.LOGIN

    @extend_schema(request=s.LoginSerializer, responses=s.TOKEN_RESPONSES)
    def post(self, request):
        data = validated_data(s.LoginSerializer, request)
        app = data["client"] == "app"
        if not app:
            enforce_csrf(request)
        try:
            issued = services.auth_login(
                request=request._request, email=data["email"], password=data["password"]
            )
        except services.LockedOut as exc:
            raise LockedOutError(wait=cool_off_seconds(request._request)) from exc
        except services.InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS) from exc
        request.user = issued.user
        return _token_response(request, issued, app=app)


class RefreshView(PublicAuthView):
    """A refresh token (body for apps, cookie for browsers) -> new access and refresh tokens.

    A refused refresh also clears the token cookies: the session is over.
    """

    throttle_classes = throttles.REFRESH

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            clear_token_cookies(response)
        return response

    @extend_schema(request=s.RefreshSerializer, responses=s.TOKEN_RESPONSES)
    def post(self, request):
        data = validated_data(s.RefreshSerializer, request)
        app = "refresh_token" in data
        if app:
            token = data["refresh_token"]
        else:
            enforce_csrf(request)
            token = request.COOKIES.get(refresh_cookie_name())
            if not token:
                raise exceptions.AuthenticationFailed("No refresh token was sent.")
        try:
            issued = services.session_refresh(refresh_token=token)
        except services.InvalidToken as exc:
            raise exceptions.AuthenticationFailed(INVALID_REFRESH) from exc
        request.user = issued.user
        return _token_response(request, issued, app=app)


def _no_content_clearing_cookies() -> Response:
    response = Response(status=status.HTTP_204_NO_CONTENT)
    clear_token_cookies(response)
    return response


class LogoutView(APIView):
    """Ends the session of the access token used (and clears the cookies)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AccessGrant):
            session = selectors.session_list_active(user=request.user).filter(
                pk=request.auth.session_id
            )
            for one in session:
                services.session_revoke(session=one, reason=SessionEndReason.LOGOUT)
        return _no_content_clearing_cookies()


class LogoutAllView(APIView):
    """Ends every session of the caller, this one included."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.sessions_revoke_all(user=request.user, reason=SessionEndReason.LOGOUT_ALL)
        return _no_content_clearing_cookies()


class SessionViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's open sessions; DELETE ends one (others' sessions are 404)."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.SessionSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return AuthSession.objects.none()
        return selectors.session_list_active(user=self.request.user)

    def perform_destroy(self, instance):
        services.session_revoke(session=instance, reason=SessionEndReason.LOGOUT)


class PasswordChangeView(APIView):
    """Needs the current password; every other session ends."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        data = validated_data(s.PasswordChangeSerializer, request)
        current = getattr(request.auth, "session_id", None)
        services.password_change(
            user=request.user,
            old_password=data["old_password"],
            new_password=data["new_password"],
            current_session_id=current,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAuthView):
    """202 whether or not the address has an account; a link is emailed if it has."""

    throttle_classes = throttles.PASSWORD_RESET

    @extend_schema(request=s.PasswordResetSerializer, responses={202: s.DetailSerializer})
    def post(self, request):
        data = validated_data(s.PasswordResetSerializer, request)
        services.password_reset_request(email=data["email"])
        return Response(
            {"detail": "If the address belongs to an account, a link to reset it is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(PublicAuthView):
    """The emailed uid and token with a new password; ends every session."""

    @extend_schema(request=s.PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request):
        data = validated_data(s.PasswordResetConfirmSerializer, request)
        services.password_reset_confirm(
            uid=data["uid"], token=data["token"], new_password=data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyEmailView(PublicAuthView):
    """The emailed token -> the address is verified."""

    @extend_schema(
        request=s.VerifyEmailSerializer,
        responses=inline_serializer("EmailVerified", {"is_verified": s.serializers.BooleanField()}),
    )
    def post(self, request):
        data = validated_data(s.VerifyEmailSerializer, request)
        services.email_verify(token=data["token"])
        return Response({"is_verified": True})


class VerifyEmailResendView(APIView):
    """Sends the caller a new verification link (nothing when already verified)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = throttles.VERIFY_EMAIL_RESEND

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer("VerificationSent", {"sent": s.serializers.BooleanField()})
        },
    )
    def post(self, request):
        sent = services.email_verification_resend(user=request.user)
        return Response({"sent": sent}, status=status.HTTP_202_ACCEPTED)


@service_schema(s.UserCreateSerializer, s.UserUpdateSerializer, s.UserSerializer)
class UserViewSet(ServiceViewSet):
    """Colleagues for every role; creating, changing and deactivating for Administrators.

    `DELETE` deactivates: the row stays because invoices refer to it.
    """

    queryset = User.objects.all()  # the model for ModelPermissions; rows: get_queryset
    serializer_class = s.UserSerializer
    input_serializer_class = s.UserCreateSerializer
    update_serializer_class = s.UserUpdateSerializer
    filterset_class = UserFilter
    search_fields = ["name", "email"]
    ordering_fields = ["name", "email", "created_at"]

    def get_queryset(self):
        return selectors.user_list(viewer=self.request.user)

    def get_object(self):
        """A user the caller may act on, for writes: a superuser only for a superuser
        (403 before the body is read; the services check it again)."""
        user = super().get_object()
        if self.request.method not in SAFE_METHODS:
            services.user_act_check(by=self.request.user, user=user)
        return user

    def service_create(self, data):
        return services.user_create(**data, by=self.request.user)

    def service_update(self, obj, data, version):
        services.user_update(user=obj, by=self.request.user, **data)

    def service_delete(self, obj, version):
        services.user_deactivate(user=obj, by=self.request.user)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="sessions/revoke")
    def sessions_revoke(self, request, **kwargs):
        """Ends every session of the user (Administrators; a superuser's: superusers)."""
        services.user_sessions_end(user=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["get", "patch"], permission_classes=[IsAuthenticated])
    def me(self, request):
        """The caller's own profile: name, date of birth and email can be changed."""
        if request.method == "PATCH":
            data = validated_data(s.ProfileUpdateSerializer, request)
            services.user_update(user=request.user, by=request.user, **data)
        return Response(self.get_serializer(request.user).data)
