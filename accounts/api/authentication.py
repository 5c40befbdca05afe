"""DRF authentication by access token: `Authorization: Bearer` or the HttpOnly cookie.

One cache round trip (the grant) and one query (the user). A cookie-borne token is
CSRF-checked on unsafe methods, like Django's session cookie; a Bearer header is not
(a browser never adds it by itself). Any token that does not check out - unknown,
expired, revoked, malformed - is a 401 with `WWW-Authenticate: Bearer`.
"""

from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import authentication, exceptions

from accounts.models import User
from accounts.roles import Role
from accounts.tokens import access_token_lookup

from .cookies import access_cookie_name

INVALID_TOKEN_DETAIL = "The access token is invalid or has expired."
BEARER_CHALLENGE = 'Bearer realm="api"'


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason  # the reason instead of a response, as DRF's SessionAuthentication


def enforce_csrf(request) -> None:
    """403 unless an unsafe request carries the CSRF token (cookie-borne credentials)."""
    check = _CSRFCheck(lambda req: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


class TokenAuthentication(authentication.BaseAuthentication):
    """Access tokens issued by `accounts.services` (login and refresh)."""

    def authenticate(self, request):
        token, from_cookie = self.get_token(request)
        if token is None:
            return None
        grant = access_token_lookup(token)
        if grant is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_DETAIL)
        try:
            # `get`, not `filter().first()`: the same one row, without the ORDER BY and
            # the extra queryset clones (`first` costs ~60 us more on every request).
            user = User.objects.get(pk=grant.user_id, is_active=True)
        except User.DoesNotExist:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_DETAIL) from None
        # The role is part of the grant: a role change revokes the token, so it is current.
        user.__dict__["_role"] = _role_or_none(grant.role)
        if from_cookie:
            enforce_csrf(request)
        return user, grant

    @staticmethod
    def get_token(request) -> tuple[str | None, bool]:
        """(token, came from the cookie). A non-Bearer Authorization header is not ours."""
        header = request.META.get("HTTP_AUTHORIZATION")
        if header:
            scheme, _, rest = header.strip().partition(" ")
            if scheme.lower() == "bearer":
                token = rest.strip()
                if not token or " " in token:
                    raise exceptions.AuthenticationFailed("Malformed Authorization header.")
                return token, False
            return None, False
        token = request.COOKIES.get(access_cookie_name())
        return (token, True) if token else (None, False)

    def authenticate_header(self, request):
        return BEARER_CHALLENGE


def _role_or_none(value: str | None) -> Role | None:
    try:
        return Role(value) if value else None
    except ValueError:
        return None
