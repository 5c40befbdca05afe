"""Users: create, change, give a role, deactivate and reactivate."""

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SessionEndReason, User
from accounts.roles import Role
from accounts.selectors import user_role

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


def _validate_birth_date(value: date | None) -> None:
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
    _validate_birth_date(date_of_birth)
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
        verification_email_queue(user=user)
    if role is not _UNSET:
        user_set_role(user=user, role=role, by=by)
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
    role = Role(role) if role else None
    previous = user_role(user) if not user._state.adding else None
    groups = [role_group(role)] if role else []
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
