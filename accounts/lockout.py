"""Password guessing: django-axes glue and the per-account slowdown.

The policy (docs/accounts.md, "Lockout and throttling"):
- an account and an address together are locked after `AXES_FAILURE_LIMIT` failures
  (axes, `AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]`);
- an address is locked for every account after `LOGIN_ADDRESS_FAILURE_LIMIT` failures
  across accounts (password spraying). Axes compares one limit with the largest count
  over its parameter sets, so this second, higher limit is counted here;
- an account that collects `LOGIN_SLOWDOWN_AFTER` failures from any addresses is slowed
  down: after its latest failure, attempts for it wait a short time that doubles with
  each further failure (at most `LOGIN_SLOWDOWN_MAX_SECONDS`). Addresses the account
  signed in from within the session lifetime are not slowed, so a stranger cannot keep
  its owner out; one address alone never gets there (it is locked first) as long as
  `LOGIN_SLOWDOWN_AFTER` is above `AXES_FAILURE_LIMIT`.
Failures count for `AXES_COOLOFF_TIME` after the last one (axes' attempt records).
Addresses come from `project.client_address` (X-Forwarded-For only through the trusted
proxies).
"""

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import AuthSession

LOCKOUT_DETAIL = "Too many failed login attempts."


def axes_username(request, credentials: dict | None) -> str | None:
    """The account a login attempt names, case-folded (emails are case-insensitive)."""
    value = None
    if credentials:
        value = credentials.get("email") or credentials.get("username")
    elif request is not None:
        value = request.POST.get("email") or request.POST.get("username")
    return str(value).strip().lower() if value else None


def cool_off_seconds(request=None) -> int:
    """Seconds until a refused login may be tried again (the Retry-After)."""
    wait = getattr(request, "lockout_wait", None)
    if wait:
        return wait
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def _signed_in_from(*, account: str, address: str | None) -> bool:
    """Whether the account opened a session from `address` within the session lifetime."""
    if not address:
        return False
    since = timezone.now() - timedelta(seconds=settings.REFRESH_TOKEN_ABSOLUTE_TTL)
    return AuthSession.objects.filter(
        user__email__iexact=account, ip=address, created_at__gte=since
    ).exists()


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with the per-address limit and the per-account slowdown."""

    def _recent_attempts(self, request):
        threshold = request.axes_attempt_time - get_cool_off(request)
        return AccessAttempt.objects.filter(attempt_time__gte=threshold)

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures for the account and address; the limit itself once the address
        alone has reached `LOGIN_ADDRESS_FAILURE_LIMIT`."""
        failures = super().get_failures(request, credentials)
        from_address = self._recent_attempts(request).filter(ip_address=request.axes_ip_address)
        total = from_address.aggregate(total=Sum("failures_since_start"))["total"] or 0
        if total >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def slowdown_wait(self, request, credentials: dict | None = None) -> int:
        """Seconds an attempt for this account from this address must still wait (0: none)."""
        account = get_client_username(request, credentials)
        if not account:
            return 0
        recent = self._recent_attempts(request).filter(username=account)
        seen = recent.aggregate(total=Sum("failures_since_start"), last=Max("attempt_time"))
        failures = seen["total"] or 0
        if failures < settings.LOGIN_SLOWDOWN_AFTER:
            return 0
        doublings = min(failures - settings.LOGIN_SLOWDOWN_AFTER, 30)
        delay = timedelta(seconds=min(2**doublings, settings.LOGIN_SLOWDOWN_MAX_SECONDS))
        wait = math.ceil((seen["last"] + delay - request.axes_attempt_time).total_seconds())
        if wait <= 0 or _signed_in_from(account=account, address=request.axes_ip_address):
            return 0
        return wait

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        """Locked for the account and address, or for the address; else slowed down."""
        request.lockout_wait = None
        if super().is_locked(request, credentials):
            return True
        request.lockout_wait = self.slowdown_wait(request, credentials) or None
        return request.lockout_wait is not None
