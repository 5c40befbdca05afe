"""Roles: each role's group holds exactly the permissions `accounts.roles` declares."""

import logging
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission

from accounts.roles import ROLE_PERMISSIONS, Role
from accounts.selectors import ROLE_GROUP_NAMES

logger = logging.getLogger(__name__)


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


def role_group(role: Role) -> Group:
    """The role's group (made, with its permissions, on a fresh database)."""
    try:
        return Group.objects.get(name=ROLE_GROUP_NAMES[role])
    except Group.DoesNotExist:  # a fresh database where sync_roles has not run yet
        return roles_sync()[role].group
