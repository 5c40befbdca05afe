"""Every write of the accounts app, by topic; every public name is importable from here.

- `roles`: `roles_sync` (each role's group holds exactly its declared permissions).
- `authority`: who may act on whom (`user_may_act_on`, `user_act_check`,
  `superuser_grant_check`, raising `SuperuserRequired`): only a superuser acts on a
  superuser or grants superuser status.
- `users`: `user_create`, `user_update`, `user_set_role`, `user_password_set`,
  `user_sessions_end`, `user_deactivate`, `user_reactivate`.
- `sessions`: `auth_login`, `session_start`, `session_refresh`, `session_revoke`,
  `sessions_revoke_all`, and the outcomes `InvalidCredentials`, `LockedOut`,
  `InvalidToken`, `TokenReused`.
- `passwords`: `password_change`, `password_reset_request`, `password_reset_confirm`,
  `email_verify`, `email_verification_resend`.

Services are keyword-only and raise `django.core.exceptions.ValidationError` (with a
field dict) for bad input, which every interface shows as field errors.
"""

from .authority import (
    SUPERUSER_ONLY,
    SuperuserRequired,
    superuser_grant_check,
    user_act_check,
    user_may_act_on,
)
from .passwords import (
    email_verification_resend,
    email_verify,
    password_change,
    password_reset_confirm,
    password_reset_email_queue,
    password_reset_request,
    validate_new_password,
    verification_email_queue,
)
from .roles import RoleSyncResult, role_group, roles_sync
from .sessions import (
    InvalidCredentials,
    InvalidToken,
    IssuedTokens,
    LockedOut,
    TokenReused,
    auth_login,
    session_refresh,
    session_revoke,
    session_start,
    sessions_revoke_all,
)
from .users import (
    user_create,
    user_deactivate,
    user_password_set,
    user_reactivate,
    user_sessions_end,
    user_set_role,
    user_update,
    validate_birth_date,
)

__all__ = [
    "SUPERUSER_ONLY",
    "InvalidCredentials",
    "InvalidToken",
    "IssuedTokens",
    "LockedOut",
    "RoleSyncResult",
    "SuperuserRequired",
    "TokenReused",
    "auth_login",
    "email_verification_resend",
    "email_verify",
    "password_change",
    "password_reset_confirm",
    "password_reset_email_queue",
    "password_reset_request",
    "role_group",
    "roles_sync",
    "session_refresh",
    "session_revoke",
    "session_start",
    "sessions_revoke_all",
    "superuser_grant_check",
    "user_act_check",
    "user_create",
    "user_deactivate",
    "user_may_act_on",
    "user_password_set",
    "user_reactivate",
    "user_sessions_end",
    "user_set_role",
    "user_update",
    "validate_birth_date",
    "validate_new_password",
    "verification_email_queue",
]
