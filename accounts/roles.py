"""Roles and what each may do: the one place where permissions are declared.

Roles are Django groups; `manage.py sync_roles` (also run after `migrate`) makes
each group hold exactly the permissions listed here. Users get permissions only
through their group (superusers count as Administrators). Permissions of apps that
are not installed yet are skipped with a warning by `sync_roles`.

Custom permissions beyond CRUD are declared in the owning model's `Meta.permissions`:
`records.finalize_invoice` (finalize and send), `records.cancel_invoice`,
`integrations.run_sync` (trigger a sync).
"""

from django.db import models


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    EMPLOYEE = "employee", "Employee"
    VIEWER = "viewer", "Viewer"


def _crud(app_label: str, model: str, *actions: str) -> list[str]:
    return [f"{app_label}.{action}_{model}" for action in actions]


_READ_RECORDS = [
    *_crud("accounts", "user", "view"),
    *_crud("records", "contact", "view"),
    *_crud("records", "product", "view"),
    *_crud("records", "taxrate", "view"),
    *_crud("records", "invoice", "view"),
    *_crud("records", "payment", "view"),
    *_crud("integrations", "syncrun", "view"),
]

_EMPLOYEE_WRITES = [
    *_crud("records", "contact", "add", "change"),
    *_crud("records", "product", "add", "change"),
    *_crud("records", "invoice", "add", "change", "delete"),  # deleting: drafts only
    "records.finalize_invoice",
    "records.cancel_invoice",
    *_crud("records", "payment", "add"),
    "integrations.run_sync",
    *_crud("integrations", "connection", "view"),
    *_crud("integrations", "connectionissue", "view"),
    *_crud("integrations", "syncconflict", "view"),
]

_ADMINISTRATOR_ONLY = [
    *_crud("accounts", "user", "add", "change", "delete"),
    *_crud("accounts", "authsession", "view", "change"),  # see and revoke sessions in admin
    *_crud("records", "contact", "delete"),
    *_crud("records", "product", "delete"),
    *_crud("records", "taxrate", "add", "change", "delete"),
    *_crud("records", "payment", "change", "delete"),
    *_crud("integrations", "connection", "add", "change", "delete"),
    *_crud("integrations", "connectionissue", "change"),  # resolve issues in admin
    *_crud("integrations", "syncconflict", "change"),  # resolve sync conflicts in admin
    *_crud("integrations", "outboxitem", "view", "change"),
]

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.VIEWER: _READ_RECORDS,
    Role.EMPLOYEE: _READ_RECORDS + _EMPLOYEE_WRITES,
    Role.ADMINISTRATOR: _READ_RECORDS + _EMPLOYEE_WRITES + _ADMINISTRATOR_ONLY,
}
