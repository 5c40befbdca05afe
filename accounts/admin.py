"""Admin: users with their role (groups are kept by `sync_roles`), sessions with revoke.

Every change of a user saved here goes through `accounts.services` as the signed-in
user (`by`), so the rules are the API's: only a superuser acts on a superuser
(`services.user_may_act_on`: others see a superuser's page read-only and get a 403 for
the password page), superuser status is granted only by a superuser (the field is
shown only to superusers), staff status follows the role, and a change of password,
role, superuser status or activity ends the user's API sessions at once.
"""

import copy
import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError

from project.admin import ReadOnlyAdminMixin

from . import services
from .models import AuthSession, SessionEndReason, User
from .roles import Role
from .selectors import role_filter_q, user_role

ROLE_CHOICES = [("", "(no role)"), *Role.choices]


class RoleFormMixin(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)


class UserCreateForm(RoleFormMixin, UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserEditForm(RoleFormMixin, UserChangeForm):
    class Meta:
        model = User
        exclude = ("groups", "user_permissions")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            role = user_role(self.instance)
            self.initial["role"] = role.value if role else ""

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        try:
            services.validate_birth_date(value)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["date_of_birth"]) from exc
        return value


class PasswordSetForm(AdminPasswordChangeForm):
    """Django's admin password form, saved through `services.user_password_set` as `by`
    (which also ends the user's sessions)."""

    def __init__(self, user, *args, by=None, **kwargs):
        self.by = by
        super().__init__(user, *args, **kwargs)

    def save(self, commit=True):
        password = (
            self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        )
        return services.user_password_set(user=self.user, password=password, by=self.by)


class RoleListFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.filter(role_filter_q(Role(self.value()))).distinct()
        return queryset


class SessionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AuthSession
    fields = ("created_at", "last_seen_at", "ip", "user_agent", "expires_at", "revoked_at")
    readonly_fields = fields
    allow_change = True
    extra = 0
    show_change_link = True
    ordering = ("-created_at",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    inlines = [SessionInline]
    ordering = ("email",)
    list_display = ("email", "name", "role", "is_verified", "is_active", "last_login")
    list_filter = (RoleListFilter, "is_active", "is_verified", "is_superuser")
    search_fields = ("email", "name")
    change_password_form = PasswordSetForm
    readonly_fields = ("last_login", "date_joined", "created_at", "updated_at", "is_staff")
    # What the change form saves, each through `services.user_update`.
    editable_fields = ("email", "name", "date_of_birth", "is_verified", "role", "is_active")
    superuser_only_fields = ("is_superuser", "is_staff")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "date_of_birth", "is_verified")}),
        ("Access", {"fields": ("role", "is_active", "is_superuser", "is_staff")}),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "name", "role", "password1", "password2")},
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role(self, user):
        role = user_role(user)
        return role.label if role else "-"

    def get_fieldsets(self, request, obj=None):
        """Superuser and staff status are shown to superusers only."""
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": self._without_superuser_fields(options["fields"])})
            for name, options in fieldsets
        ]

    def _without_superuser_fields(self, fields):
        return tuple(field for field in fields if field not in self.superuser_only_fields)

    def get_readonly_fields(self, request, obj=None):
        """Nobody deactivates themselves here (as in the API)."""
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.pk == request.user.pk:
            readonly = (*readonly, "is_active")
        return readonly

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or services.user_may_act_on(by=request.user, user=obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or services.user_may_act_on(by=request.user, user=obj))

    def user_change_password(self, request, id, form_url=""):
        """Django's password page (a 403 where `has_change_permission` says no), with a
        form that saves through the service as the signed-in user. The admin instance is
        shared by all requests, so this request's form is set on a copy of it."""
        page = copy.copy(self)
        page.change_password_form = functools.partial(PasswordSetForm, by=request.user)
        return DjangoUserAdmin.user_change_password(page, request, id, form_url)

    def save_model(self, request, obj, form, change):
        """Through the services as `request.user`: the same rules and session endings as
        the API. The form has applied its data to `obj`; the service gets the stored row
        and the changed fields."""
        if not change:
            super().save_model(request, obj, form, change)
            services.user_set_role(
                user=obj, role=form.cleaned_data.get("role") or None, by=request.user
            )
            return
        changes = {
            name: form.cleaned_data[name]
            for name in (*self.editable_fields, "is_superuser")
            if name in form.changed_data
        }
        if "role" in changes:
            changes["role"] = changes["role"] or None
        stored = User.objects.get(pk=obj.pk)
        services.user_update(user=stored, by=request.user, **changes)
        obj.refresh_from_db()


@admin.register(AuthSession)
class AuthSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sessions are opened by logins; here they are seen, revoked or deleted."""

    list_display = (
        "user",
        "created_at",
        "last_seen_at",
        "ip",
        "user_agent",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("revoked_reason",)
    search_fields = ("user__email", "ip")
    list_select_related = ("user",)
    readonly_fields = [
        field.name for field in AuthSession._meta.fields if field.name != "access_digest"
    ]
    exclude = ("access_digest",)
    actions = ["revoke"]
    allow_change = True  # the revoke action
    allow_delete = True

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or services.user_may_act_on(by=request.user, user=obj.user))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or services.user_may_act_on(by=request.user, user=obj.user))

    def delete_model(self, request, obj):
        """Revoked first: deleting the row alone would leave its access token working."""
        services.session_revoke(session=obj, reason=SessionEndReason.ADMIN, by=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for session in queryset.select_related("user"):
            services.session_revoke(session=session, reason=SessionEndReason.ADMIN, by=request.user)
        super().delete_queryset(request, queryset)

    @admin.action(description="Revoke selected sessions", permissions=["change"])
    def revoke(self, request, queryset):
        count = refused = 0
        for session in queryset.filter(revoked_at__isnull=True).select_related("user"):
            if not services.user_may_act_on(by=request.user, user=session.user):
                refused += 1
                continue
            services.session_revoke(session=session, reason=SessionEndReason.ADMIN, by=request.user)
            count += 1
        self.message_user(request, f"{count} session(s) revoked.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} session(s) of superusers left open: {services.SUPERUSER_ONLY}",
                messages.ERROR,
            )
