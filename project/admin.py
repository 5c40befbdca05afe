"""Admin conventions the apps share (this module registers no model)."""


class ReadOnlyAdminMixin:
    """For a `ModelAdmin` or inline of rows that only services write: nobody adds or
    deletes them here.

    `allow_change = True` keeps Django's change permission, for admins whose actions are
    declared with `permissions=["change"]` (their fields are all read-only);
    `allow_delete = True` keeps the delete permission.
    """

    allow_change = False
    allow_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return self.allow_change and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and super().has_delete_permission(request, obj)
