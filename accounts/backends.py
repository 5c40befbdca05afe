"""Authentication backend: permissions reach users only through their role's group."""

from django.contrib.auth.backends import ModelBackend


class RoleBackend(ModelBackend):
    """Django's model backend without per-user permissions.

    Roles are groups kept by `sync_roles`; a permission granted to a single user would
    bypass `accounts/roles.py`, so it is ignored (and saves a query per request).
    """

    def get_user_permissions(self, user_obj, obj=None):
        return set()
