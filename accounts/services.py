"""Every write of the accounts app: roles, users, sessions and tokens, passwords, email.

Services are keyword-only and raise `django.core.exceptions.ValidationError` (with a
field dict) for bad input and the exceptions below for authentication outcomes;
interfaces translate both into responses.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from . import tasks, tokens
from .models import AuthSession, RefreshToken, SessionEndReason, User
from .roles import ROLE_PERMISSIONS, Role
from .selectors import ROLE_GROUP_NAMES, user_role

logger = logging.getLogger(__name__)


def _after_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the surrounding transaction commits (emails, never before)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


class InvalidCredentials(Exception):
    """Wrong password, unknown email or inactive user: callers cannot tell which."""


class LockedOut(Exception):
    """Too many failed logins for this account or address; try after the cool-down."""


class InvalidToken(Exception):
    """An unknown, expired, used or revoked token."""


class TokenReused(InvalidToken):
    """A refresh token presented a second time: the session has been revoked."""


# --- Roles ---------------------------------------------------------------------------


@dataclass
class RoleSyncResult:
    group: Group
    added: int
    removed: int
    missing: list[str]


def roles_sync() -> dict[Role, RoleSyncResult]:
    """Make each role's group hold exactly the permissions in `ROLE_PERMISSIONS`.

    Idempotent. Permissions that do not exist yet (an app not installed or not
    migrated) are skipped with a warning and assigned by a later run.
    """
    known = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    results = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])
        wanted, missing = set(), []
        for name in names:
            app_label, _, codename = name.partition(".")
            pk = known.get((app_label, codename))
            if pk is None:
                missing.append(name)
            else:
                wanted.add(pk)
        current = set(group.permissions.values_list("pk", flat=True))
        group.permissions.add(*(wanted - current))
        group.permissions.remove(*(current - wanted))
        if missing:
            logger.warning(
                "sync_roles: %s: %d permissions do not exist yet: %s",
                role.label,
                len(missing),
                ", ".join(sorted(missing)),
            )
        results[role] = RoleSyncResult(group, len(wanted - current), len(current - wanted), missing)
    return results


# --- Users ---------------------------------------------------------------------------


def _validate_email_free(email: str, *, exclude_pk=None) -> str:
    email = User.objects.normalize_email(email).strip()
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"email": ["A user with this email address already exists."]})
    return email


def _validate_birth_date(value: date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError({"date_of_birth": ["The date of birth cannot be in the future."]})


def _validate_new_password(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@transaction.atomic
def user_create(
    *,
    email: str,
    name: str = "",
    role: Role | str,
    password: str | None = None,
    date_of_birth: date | None = None,
    by: User | None = None,
) -> User:
    """Create a user with a role. Without a password they get an invitation email
    (a link to set one); with a password, a verification link."""
    email = _validate_email_free(email)
    _validate_birth_date(date_of_birth)
    user = User(email=email, name=name, date_of_birth=date_of_birth)
    if password:
        _validate_new_password(password, user, "password")
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_set_role(user=user, role=role, by=by)
    if password:
        _after_commit(tasks.send_verification_email, str(user.pk))
    else:
        _after_commit(tasks.send_password_reset_email, str(user.pk), invitation=True)
    logger.info("user %s created by %s", user.pk, getattr(by, "pk", None))
    return user


_UNSET = object()


@transaction.atomic
def user_update(
    *,
    user: User,
    by: User,
    name: str = _UNSET,
    email: str = _UNSET,
    date_of_birth: date | None = _UNSET,
    role: Role | str = _UNSET,
    is_active: bool = _UNSET,
) -> User:
    """Change a user's profile (and, for administrators' calls, role and activity).

    A changed email address is unverified until the new link is used. A role change
    or deactivation ends the user's sessions.
    """
    fields = []
    if name is not _UNSET and name != user.name:
        user.name = name
        fields.append("name")
    if date_of_birth is not _UNSET and date_of_birth != user.date_of_birth:
        _validate_birth_date(date_of_birth)
        user.date_of_birth = date_of_birth
        fields.append("date_of_birth")
    email_changed = False
    if email is not _UNSET and email.strip().lower() != user.email.lower():
        user.email = _validate_email_free(email, exclude_pk=user.pk)
        user.is_verified = False
        fields += ["email", "is_verified"]
        email_changed = True
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    if email_changed:
        _after_commit(tasks.send_verification_email, str(user.pk))
    if role is not _UNSET:
        user_set_role(user=user, role=role, by=by)
    if is_active is not _UNSET and is_active != user.is_active:
        if is_active:
            user_reactivate(user=user, by=by)
        else:
            user_deactivate(user=user, by=by)
    return user


def _role_group(role: Role) -> Group:
    try:
        return Group.objects.get(name=ROLE_GROUP_NAMES[role])
    except Group.DoesNotExist:  # a fresh database where sync_roles has not run yet
        return roles_sync()[role].group


@transaction.atomic
def user_set_role(*, user: User, role: Role | str | None, by: User | None = None) -> User:
    """Give the user exactly one role (its group). A change ends their sessions.

    Administrators and Employees may use Django admin (`is_staff`), within their
    permissions; Viewers use the API only. Superusers keep their flags.
    """
    role = Role(role) if role else None
    previous = user_role(user) if not user._state.adding else None
    groups = [_role_group(role)] if role else []
    user.groups.set(groups)
    user.__dict__.pop("_role", None)
    staff = user.is_superuser or role in (Role.ADMINISTRATOR, Role.EMPLOYEE)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff", "updated_at"])
    if previous != user_role(user):
        sessions_revoke_all(user=user, reason=SessionEndReason.ROLE_CHANGE)
        logger.info("user %s role %s -> %s by %s", user.pk, previous, role, getattr(by, "pk", None))
    return user


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Deactivate (the row stays: invoices refer to it) and end every session."""
    if by is not None and by.pk == user.pk:
        raise ValidationError({"id": ["You cannot deactivate your own account."]})
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
    sessions_revoke_all(user=user, reason=SessionEndReason.DEACTIVATED)
    logger.info("user %s deactivated by %s", user.pk, getattr(by, "pk", None))
    return user


def user_reactivate(*, user: User, by: User | None = None) -> User:
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active", "updated_at"])
        logger.info("user %s reactivated by %s", user.pk, getattr(by, "pk", None))
    return user


# --- Sessions and tokens ---------------------------------------------------------


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
        ip=request.META.get("REMOTE_ADDR"),
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


def session_revoke(*, session: AuthSession, reason: SessionEndReason) -> None:
    """End one session now: its refresh tokens stop working, its access token too."""
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


# --- Passwords ---------------------------------------------------------------------


@transaction.atomic
def password_change(
    *, user: User, old_password: str, new_password: str, current_session_id=None
) -> None:
    """Change the password; every other session ends."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The password is incorrect."]})
    _validate_new_password(new_password, user, "new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    sessions_revoke_all(
        user=user, reason=SessionEndReason.PASSWORD_CHANGE, except_session_id=current_session_id
    )


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active user has this address; silent otherwise."""
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is not None:
        _after_commit(tasks.send_password_reset_email, str(user.pk))


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        return User.objects.get(pk=pk, is_active=True)
    except (ValueError, TypeError, OverflowError, ValidationError, User.DoesNotExist):
        return None


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from an emailed link; ends all sessions.

    The link proves control of the address, so the email counts as verified too.
    Django's token generator makes the link single-use (it hashes the password).
    """
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["The link is invalid or has expired."]})
    _validate_new_password(new_password, user, "new_password")
    user.set_password(new_password)
    user.is_verified = True
    user.save(update_fields=["password", "is_verified", "updated_at"])
    sessions_revoke_all(user=user, reason=SessionEndReason.PASSWORD_RESET)
    return user


# --- Email verification ------------------------------------------------------------


def email_verify(*, token: str) -> User:
    """Mark the address verified if the token is valid and still names the current one."""
    try:
        data = signing.loads(
            token, salt=tokens.EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
        user = User.objects.get(pk=data["u"], is_active=True)
        email = str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValidationError, User.DoesNotExist):
        user, email = None, ""
    if user is None or user.email.lower() != email.lower():
        raise ValidationError({"token": ["The link is invalid or has expired."]})
    if not user.is_verified:
        user.is_verified = True
        user.save(update_fields=["is_verified", "updated_at"])
    return user


def email_verification_resend(*, user: User) -> bool:
    """Send a new verification link unless the address is verified already."""
    if user.is_verified:
        return False
    _after_commit(tasks.send_verification_email, str(user.pk))
    return True
