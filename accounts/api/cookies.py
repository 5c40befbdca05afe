"""The token cookies: HttpOnly, SameSite=Lax, Path=/, no Domain; Secure with `__Host-`.

`AUTH_COOKIE_SECURE=false` (plain-http local development only) drops Secure and,
as browsers require, the `__Host-` prefix.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

ACCESS_COOKIE = "lb_access"
REFRESH_COOKIE = "lb_refresh"


def _name(base: str) -> str:
    return f"__Host-{base}" if settings.AUTH_COOKIE_SECURE else base


def access_cookie_name() -> str:
    return _name(ACCESS_COOKIE)


def refresh_cookie_name() -> str:
    return _name(REFRESH_COOKIE)


def _set(response, name: str, value: str, expires_at: datetime) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max(0, round((expires_at - timezone.now()).total_seconds())),
        path="/",
        secure=settings.AUTH_COOKIE_SECURE,
        httponly=True,
        samesite=settings.AUTH_COOKIE_SAMESITE,
    )


def set_token_cookies(response, issued) -> None:
    _set(response, access_cookie_name(), issued.access_token, issued.access_expires_at)
    _set(response, refresh_cookie_name(), issued.refresh_token, issued.refresh_expires_at)


def clear_token_cookies(response) -> None:
    for name in (access_cookie_name(), refresh_cookie_name()):
        response.delete_cookie(name, path="/", samesite=settings.AUTH_COOKIE_SAMESITE)
