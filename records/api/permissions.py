"""Permissions of the records API: model permissions, plus named ones for operations."""

from project.api.permissions import ModelPermissions


class RecordPermissions(ModelPermissions):
    """`ModelPermissions` (reads need `view_*`), except for the actions a view lists in
    `action_permissions` (`{"finalize": ["records.finalize_invoice"]}`), which need
    exactly those permissions instead."""

    def has_permission(self, request, view):
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(required))
