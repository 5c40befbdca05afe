"""Every write of the accounts app, by topic; every public name is importable from here.

- `roles`: `roles_sync` (each role's group holds exactly its declared permissions).
- `users`: `user_create`, `user_update`, `user_set_role`, `user_deactivate`,
  `user_reactivate`.
- `sessions`: `auth_login`, `session_start`, `session_refresh`, `session_revoke`,
  `sessions_revoke_all`, and the outcomes `InvalidCredentials`, `LockedOut`,
  `InvalidToken`, `TokenReused`.
- `passwords`: `password_change`, `password_reset_request`, `password_reset_confirm`,
  `email_verify`, `email_verification_resend`.

Services are keyword-only and raise `django.core.exceptions.ValidationError` (with a
field dict) for bad input, which every interface shows as field errors.
"""

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
from .users import user_create, user_deactivate, user_reactivate, user_set_role, user_update

__all__ = [
    "InvalidCredentials",
    "InvalidToken",
    "IssuedTokens",
    "LockedOut",
    "RoleSyncResult",
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
    "user_create",
    "user_deactivate",
    "user_reactivate",
    "user_set_role",
    "user_update",
    "validate_new_password",
    "verification_email_queue",
]
