"""Deny by default: a view is reachable only through the permission it declares."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions where reads need `view_*` too.

    DRF's `DjangoModelPermissions` asks for nothing on GET; here every method maps to
    a permission. A view without a queryset is denied rather than crashing, so a new
    endpoint that forgets to declare its rule is closed, not open.

    The model comes from the view's class-level `queryset` when it declares one (the
    convention here: `queryset = Model.objects.all()` names the model, `get_queryset`
    the rows), so checking the permission does not build the selector's queryset a
    second time on every request. Views with only `get_queryset` are asked for it, as
    DRF does. `project/tests/test_permissions.py` checks that the two name one model.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return False  # DRF answers 401 to anonymous callers, 403 to the rest
        return super().has_permission(request, view)

    def _queryset(self, view):
        declared = getattr(view, "queryset", None)
        if declared is not None:
            return declared  # only its `.model` is read; never evaluated
        return super()._queryset(view)
