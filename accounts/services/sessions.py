"""Sessions and tokens: login, refresh (rotation under a row lock), revocation.

Authentication outcomes are the exceptions below; interfaces turn them into 401 / 429.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import AuthSession, RefreshToken, SessionEndReason, User
from accounts.selectors import user_role
from project.client_address import client_address

from .authority import user_act_check

logger = logging.getLogger(__name__)


class InvalidCredentials(Exception):
    """Wrong password, unknown email or inactive user: callers cannot tell which."""


class LockedOut(Exception):
    """Too many failed logins for this account or address; try after the cool-down."""


class InvalidToken(Exception):
    """An unknown, expired, used or revoked token."""


class TokenReused(InvalidToken):
    """A refresh token presented a second time: the session has been revoked."""


@dataclass(frozen=True)
class IssuedTokens:
    """A login's or refresh's result. The plaintext tokens exist only here."""

    user: User
    session: AuthSession
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def _refresh_lifetimes(now: datetime) -> tuple[datetime, datetime]:
    """(idle expiry, absolute expiry) for a session starting at `now`."""
    absolute = now + timedelta(seconds=settings.REFRESH_TOKEN_ABSOLUTE_TTL)
    idle = min(now + timedelta(seconds=settings.REFRESH_TOKEN_IDLE_TTL), absolute)
    return idle, absolute


def _issue(*, session: AuthSession, user: User) -> IssuedTokens:
    """New refresh token row and access token for `session` (caller saves session)."""
    refresh_token = tokens.new_token()
    RefreshToken.objects.create(session=session, digest=tokens.token_digest(refresh_token))
    role = user_role(user)
    access_token, digest, grant = tokens.access_token_store(
        user_id=user.pk, session_id=session.pk, role=role.value if role else None
    )
    session.access_digest = digest
    return IssuedTokens(
        user=user,
        session=session,
        access_token=access_token,
        refresh_token=refresh_token,
        access_expires_at=datetime.fromtimestamp(grant.expires_at, tz=UTC),
        refresh_expires_at=session.idle_expires_at,
    )


@transaction.atomic
def session_start(*, user: User, user_agent: str = "", ip: str | None = None) -> IssuedTokens:
    """Open a session for an authenticated user and issue its first tokens."""
    now = timezone.now()
    idle, absolute = _refresh_lifetimes(now)
    session = AuthSession(
        user=user,
        user_agent=(user_agent or "")[:512],
        ip=ip or None,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=idle,
        expires_at=absolute,
    )
    session.save()
    issued = _issue(session=session, user=user)
    session.save(update_fields=["access_digest"])
    return issued


def auth_login(*, request, email: str, password: str) -> IssuedTokens:
    """Check email and password (through django-axes) and open a session.

    `request` is the Django request: axes counts failures per account and per address
    from it. Raises `LockedOut` during a cool-down, even for the right password.
    """
    if AxesProxyHandler.is_locked(request, {"email": email}):
        raise LockedOut
    # The failure that reaches the limit is still a 401; the attempts after it are locked.
    user = authenticate(request, username=email, password=password)
    if user is None:
        raise InvalidCredentials
    issued = session_start(
        user=user,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip=client_address(request),
    )
    # Sets last_login and lets axes reset the failure count for this account.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return issued


def session_refresh(*, refresh_token: str) -> IssuedTokens:
    """Exchange a refresh token for new tokens; the old one is dead at once.

    The token's row and its session are locked (`SELECT ... FOR UPDATE`), so of two
    concurrent refreshes with one token exactly one succeeds; the other sees a used
    token. A used token presented again revokes the whole session (`TokenReused`).
    """
    if not refresh_token or len(refresh_token) > tokens.MAX_TOKEN_LENGTH:
        raise InvalidToken
    digest = tokens.token_digest(refresh_token)
    now = timezone.now()
    stale_access = None
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update(of=("self", "session"))
            .select_related("session", "session__user")
            .filter(digest=digest)
            .first()
        )
        if row is None:
            raise InvalidToken
        session, user = row.session, row.session.user
        if row.used_at is not None:
            outcome = "reused"
            if session.revoked_at is None:
                stale_access = session.access_digest
                AuthSession.objects.filter(pk=session.pk).update(
                    revoked_at=now, revoked_reason=SessionEndReason.REUSE
                )
                logger.warning(
                    "refresh token reused: session %s of %s revoked", session.pk, user.pk
                )
        elif not session.is_active_at(now) or not user.is_active:
            outcome = "invalid"
        else:
            outcome = "ok"
            row.used_at = now
            row.save(update_fields=["used_at"])
            stale_access = session.access_digest
            session.last_seen_at = now
            session.idle_expires_at = min(
                now + timedelta(seconds=settings.REFRESH_TOKEN_IDLE_TTL), session.expires_at
            )
            issued = _issue(session=session, user=user)
            session.save(update_fields=["last_seen_at", "idle_expires_at", "access_digest"])
    tokens.access_tokens_delete([stale_access])
    if outcome == "reused":
        raise TokenReused
    if outcome == "invalid":
        raise InvalidToken
    return issued


def session_revoke(
    *, session: AuthSession, reason: SessionEndReason, by: User | None = None
) -> None:
    """End one session now: its refresh tokens stop working, its access token too.

    `by`: who ends it, when not its owner or the system (a superuser's sessions are ended
    only by a superuser: `SuperuserRequired`).
    """
    if by is not None:
        user_act_check(by=by, user=session.user)
    with transaction.atomic():
        locked = AuthSession.objects.select_for_update().get(pk=session.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_reason = reason
            locked.save(update_fields=["revoked_at", "revoked_reason"])
    tokens.access_tokens_delete([locked.access_digest])


def sessions_revoke_all(*, user: User, reason: SessionEndReason, except_session_id=None) -> int:
    """End all of a user's open sessions (but `except_session_id`); returns how many."""
    with transaction.atomic():
        open_sessions = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
        if except_session_id is not None:
            open_sessions = open_sessions.exclude(pk=except_session_id)
        locked = list(open_sessions.select_for_update().values_list("pk", "access_digest"))
        AuthSession.objects.filter(pk__in=[pk for pk, _ in locked]).update(
            revoked_at=timezone.now(), revoked_reason=reason
        )
    tokens.access_tokens_delete([digest for _, digest in locked])
    return len(locked)
