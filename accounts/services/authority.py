"""Who may act on whom: the one rule every interface (API, admin, commands) goes through.

- Only a superuser may act on a superuser: change their email, password, role, active
  flag or anything else, end their sessions, delete them.
- Only a superuser may grant or remove superuser status. Staff status is never set by
  hand: it comes with the role (`user_set_role`).
- An Administrator manages everyone else (which users a caller may change at all is the
  role's permission, checked by each interface as for any other model).

`by=None` is the system itself (a management command run by the operator, a migration):
nothing to check.
"""

from django.core.exceptions import PermissionDenied

from accounts.models import User

SUPERUSER_ONLY = "Only a superuser can change or act on a superuser."
SUPERUSER_STATUS_ONLY = "Only a superuser can grant or remove superuser status."


class SuperuserRequired(PermissionDenied):
    """The change needs a superuser (403 in the API, Django's 403 page in admin)."""


def user_may_act_on(*, by: User | None, user: User) -> bool:
    """Whether `by` may change `user` or end their sessions (see the module docstring)."""
    return by is None or by.is_superuser or not user.is_superuser


def user_act_check(*, by: User | None, user: User) -> None:
    """Raise `SuperuserRequired` unless `by` may change `user` or end their sessions."""
    if not user_may_act_on(by=by, user=user):
        raise SuperuserRequired(SUPERUSER_ONLY)


def superuser_grant_check(*, by: User | None) -> None:
    """Raise `SuperuserRequired` unless `by` may grant or remove superuser status."""
    if by is not None and not by.is_superuser:
        raise SuperuserRequired(SUPERUSER_STATUS_ONLY)
