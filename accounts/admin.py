"""Admin: users with their role (groups are kept by `sync_roles`), sessions with revoke."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

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
    readonly_fields = ("last_login", "date_joined", "created_at", "updated_at", "is_staff")
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

    def save_model(self, request, obj, form, change):
        """Deactivation and the role go through the services: both end sessions."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if deactivating:
            services.sessions_revoke_all(user=obj, reason=SessionEndReason.DEACTIVATED)
        if "role" in form.changed_data or not change:
            services.user_set_role(
                user=obj, role=form.cleaned_data.get("role") or None, by=request.user
            )


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

    @admin.action(description="Revoke selected sessions", permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for session in queryset.filter(revoked_at__isnull=True):
            services.session_revoke(session=session, reason=SessionEndReason.ADMIN)
            count += 1
        self.message_user(request, f"{count} session(s) revoked.", messages.SUCCESS)
