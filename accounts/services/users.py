"""Users: create, change, give a role, set a password, deactivate, reactivate, end sessions.

Every change made `by` someone goes through `authority.user_act_check` first (only a
superuser acts on a superuser), and every change of credentials or standing (password,
role, superuser status, active flag) ends the user's sessions at once.
"""

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SessionEndReason, User
from accounts.roles import Role
from accounts.selectors import user_role

from .authority import superuser_grant_check, user_act_check
from .passwords import password_reset_email_queue, validate_new_password, verification_email_queue
from .roles import role_group
from .sessions import sessions_revoke_all

logger = logging.getLogger(__name__)


def _validate_email_free(email: str, *, exclude_pk=None) -> str:
    email = User.objects.normalize_email(email).strip()
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"email": ["A user with this email address already exists."]})
    return email


def validate_birth_date(value: date | None) -> None:
    """A date of birth cannot be in the future (forms call this before saving too)."""
    if value is not None and value > timezone.localdate():
        raise ValidationError({"date_of_birth": ["The date of birth cannot be in the future."]})


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
    validate_birth_date(date_of_birth)
    user = User(email=email, name=name, date_of_birth=date_of_birth)
    if password:
        validate_new_password(password, user, "password")
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_set_role(user=user, role=role, by=by)
    if password:
        verification_email_queue(user=user)
    else:
        password_reset_email_queue(user=user, invitation=True)
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
    is_verified: bool = _UNSET,
    is_superuser: bool = _UNSET,
) -> User:
    """Change a user's profile (and, for administrators' calls, role, activity, the
    verified flag; superuser status for superusers' calls).

    A changed email address is unverified until the new link is used (unless
    `is_verified` says otherwise). A change of role, superuser status or activity ends
    the user's sessions. Raises `SuperuserRequired` when `by` may not make the change.
    """
    user_act_check(by=by, user=user)
    superuser_changed = is_superuser is not _UNSET and bool(is_superuser) != user.is_superuser
    if superuser_changed:
        superuser_grant_check(by=by)
    fields = []
    if name is not _UNSET and name != user.name:
        user.name = name
        fields.append("name")
    if date_of_birth is not _UNSET and date_of_birth != user.date_of_birth:
        validate_birth_date(date_of_birth)
        user.date_of_birth = date_of_birth
        fields.append("date_of_birth")
    email_changed = False
    if email is not _UNSET and email.strip().lower() != user.email.lower():
        user.email = _validate_email_free(email, exclude_pk=user.pk)
        user.is_verified = False
        fields += ["email", "is_verified"]
        email_changed = True
    if is_verified is not _UNSET and is_verified != user.is_verified:
        user.is_verified = is_verified
        fields.append("is_verified")
    if superuser_changed:
        user.is_superuser = bool(is_superuser)
        fields.append("is_superuser")
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    if email_changed and not user.is_verified:
        verification_email_queue(user=user)
    if role is not _UNSET:
        user_set_role(user=user, role=role, by=by)
    if superuser_changed:
        _staff_follow(user)
        sessions_revoke_all(user=user, reason=SessionEndReason.ROLE_CHANGE)
        logger.info(
            "user %s superuser=%s by %s", user.pk, user.is_superuser, getattr(by, "pk", None)
        )
    if is_active is not _UNSET and is_active != user.is_active:
        if is_active:
            user_reactivate(user=user, by=by)
        else:
            user_deactivate(user=user, by=by)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: Role | str | None, by: User | None = None) -> User:
    """Give the user exactly one role (its group). A change ends their sessions.

    Administrators and Employees may use Django admin (`is_staff`), within their
    permissions; Viewers use the API only. Superusers keep their flags.
    """
    user_act_check(by=by, user=user)
    role = Role(role) if role else None
    previous = user_role(user) if not user._state.adding else None
    groups = [role_group(role)] if role else []
    user.groups.set(groups)
    user.__dict__.pop("_role", None)
    _staff_follow(user)
    if previous != user_role(user):
        sessions_revoke_all(user=user, reason=SessionEndReason.ROLE_CHANGE)
        logger.info("user %s role %s -> %s by %s", user.pk, previous, role, getattr(by, "pk", None))
    return user


def _staff_follow(user: User) -> None:
    """Staff status comes with the role (and superuser status), never by hand."""
    staff = user_role(user) in (Role.ADMINISTRATOR, Role.EMPLOYEE)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff", "updated_at"])


@transaction.atomic
def user_password_set(*, user: User, password: str | None, by: User | None) -> User:
    """Set `user`'s password for them (an administrator, a management command), or make
    it unusable (`password=None`); every session of theirs ends."""
    user_act_check(by=by, user=user)
    if password is None:
        user.set_unusable_password()
    else:
        validate_new_password(password, user, "password")
        user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    sessions_revoke_all(user=user, reason=SessionEndReason.PASSWORD_CHANGE)
    logger.info("user %s password set by %s", user.pk, getattr(by, "pk", None))
    return user


def user_sessions_end(*, user: User, by: User | None) -> int:
    """End every session of `user` (an administrator's "sign out everywhere")."""
    user_act_check(by=by, user=user)
    ended = sessions_revoke_all(user=user, reason=SessionEndReason.ADMIN)
    logger.info("user %s: %d sessions ended by %s", user.pk, ended, getattr(by, "pk", None))
    return ended


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Deactivate (the row stays: invoices refer to it) and end every session."""
    user_act_check(by=by, user=user)
    if by is not None and by.pk == user.pk:
        raise ValidationError({"id": ["You cannot deactivate your own account."]})
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
    sessions_revoke_all(user=user, reason=SessionEndReason.DEACTIVATED)
    logger.info("user %s deactivated by %s", user.pk, getattr(by, "pk", None))
    return user


def user_reactivate(*, user: User, by: User | None = None) -> User:
    user_act_check(by=by, user=user)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active", "updated_at"])
        logger.info("user %s reactivated by %s", user.pk, getattr(by, "pk", None))
    return user
