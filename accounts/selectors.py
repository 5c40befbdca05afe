"""Reads: roles of users, which users and sessions a caller may see."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import AuthSession, User
from .roles import Role

ROLE_GROUP_NAMES = {role: role.label for role in Role}
_ROLE_PRECEDENCE = (Role.ADMINISTRATOR, Role.EMPLOYEE, Role.VIEWER)


def user_role(user) -> Role | None:
    """The user's role: their group; superusers count as Administrators.

    The result is kept on the instance (`_role`); token authentication fills it from
    the access grant, so a token-authenticated request needs no query for it.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMINISTRATOR
    if "_role" not in user.__dict__:
        names = {group.name for group in user.groups.all()}
        roles = [role for role in _ROLE_PRECEDENCE if ROLE_GROUP_NAMES[role] in names]
        user.__dict__["_role"] = roles[0] if roles else None
    return user.__dict__["_role"]


def user_is_administrator(user) -> bool:
    return user_role(user) == Role.ADMINISTRATOR


def role_filter_q(role: Role) -> Q:
    """Users whose role is `role` (superusers are Administrators, whatever their group)."""
    in_group = Q(groups__name=ROLE_GROUP_NAMES[role])
    if role == Role.ADMINISTRATOR:
        return in_group | Q(is_superuser=True)
    return in_group & Q(is_superuser=False)


def active_sessions_q(now=None) -> Q:
    now = now or timezone.now()
    return Q(revoked_at__isnull=True, idle_expires_at__gt=now, expires_at__gt=now)


def user_list(*, viewer) -> QuerySet[User]:
    """Users `viewer` may see: Administrators see everyone, others the active users.

    Groups are prefetched for `role`; Administrators also get the active sessions.
    """
    queryset = User.objects.prefetch_related("groups")
    if user_is_administrator(viewer):
        return queryset.prefetch_related(
            Prefetch(
                "auth_sessions",
                queryset=AuthSession.objects.filter(active_sessions_q()),
                to_attr="active_sessions",
            )
        )
    return queryset.filter(is_active=True)


def session_list_active(*, user) -> QuerySet[AuthSession]:
    """The user's sessions that can still be used (not revoked, not expired)."""
    return AuthSession.objects.filter(active_sessions_q(), user=user)
