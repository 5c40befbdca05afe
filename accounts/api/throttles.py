"""Throttles: requests per client address and per target account, counted in Redis.

Each endpoint that sends email, hands out tokens or starts work names a pair of these
(`throttle_classes`); the rates are `settings.THROTTLE_RATES` (environment-driven, see
docs/settings.md). A throttled request answers 429 with `Retry-After` in the error shape.

Counting is a fixed window per (scope, key): one atomic `INCR` on a key that expires
with the window, so concurrent requests cannot slip past the limit (DRF's own throttles
read, change and write back a list). Every request counts, refused ones too. Login has
no per-account counter of attempts: one would let a stranger use up the owner's
allowance; failed logins per account are slowed down by `accounts.lockout` instead.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from accounts import tokens
from accounts.models import RefreshToken
from project.client_address import client_address

from .cookies import refresh_cookie_name

KEY_PREFIX = "throttle:"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "10/hour" -> (10, 3600); None -> None (not throttled)."""
    if rate is None:
        return None
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


class ScopedThrottle(BaseThrottle):
    """A fixed-window counter per `scope` and `key(request)`; no key: not counted."""

    scope = ""
    timer = time.time

    def key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self.remaining = None
        rate = parse_rate(settings.THROTTLE_RATES[self.scope])
        key = self.key(request) if rate else None
        if key is None:
            return True
        limit, period = rate
        now = self.timer()
        window = int(now // period)
        name = f"{KEY_PREFIX}{self.scope}:{hashlib.sha256(key.encode()).hexdigest()}:{window}"
        cache.add(name, 0, timeout=period + 1)
        try:
            count = cache.incr(name)
        except ValueError:  # the window's key expired between the two calls
            return True
        if count <= limit:
            return True
        self.remaining = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self.remaining


class AddressThrottle(ScopedThrottle):
    """Per client address (`project.client_address`)."""

    def key(self, request) -> str | None:
        return client_address(request)


class CallerThrottle(ScopedThrottle):
    """Per authenticated caller: their own account is the target."""

    def key(self, request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


class LoginAddressThrottle(AddressThrottle):
    scope = "login_address"


class RefreshAddressThrottle(AddressThrottle):
    scope = "refresh_address"


class RefreshAccountThrottle(ScopedThrottle):
    """Per account the presented refresh token (body or cookie) belongs to."""

    scope = "refresh_account"

    def key(self, request) -> str | None:
        token = request.data.get("refresh_token") if isinstance(request.data, dict) else None
        token = token or request.COOKIES.get(refresh_cookie_name())
        if not isinstance(token, str) or not token or len(token) > tokens.MAX_TOKEN_LENGTH:
            return None
        owner = (
            RefreshToken.objects.filter(digest=tokens.token_digest(token.strip()))
            .values_list("session__user_id", flat=True)
            .first()
        )
        return str(owner) if owner else None


class PasswordResetAddressThrottle(AddressThrottle):
    scope = "password_reset_address"


class PasswordResetAccountThrottle(ScopedThrottle):
    """Per email address a reset is asked for, whether or not it has an account."""

    scope = "password_reset_account"

    def key(self, request) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        return email.strip().lower() if isinstance(email, str) and email.strip() else None


class VerifyEmailAddressThrottle(AddressThrottle):
    scope = "verify_email_address"


class VerifyEmailAccountThrottle(CallerThrottle):
    scope = "verify_email_account"


class SyncAddressThrottle(AddressThrottle):
    scope = "sync_address"


class SyncAccountThrottle(CallerThrottle):
    scope = "sync_account"


LOGIN = [LoginAddressThrottle]
REFRESH = [RefreshAddressThrottle, RefreshAccountThrottle]
PASSWORD_RESET = [PasswordResetAddressThrottle, PasswordResetAccountThrottle]
VERIFY_EMAIL_RESEND = [VerifyEmailAddressThrottle, VerifyEmailAccountThrottle]
SYNC = [SyncAddressThrottle, SyncAccountThrottle]
