"""Admin: connections (the API token is a write-only form field) and their issues.

Writes go through the services, as in the API; the token is never rendered, not even
masked, and the stored ciphertext is not a form field at all.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.debug import sensitive_post_parameters

from project.admin import ReadOnlyAdminMixin

from . import services
from .models import Connection, ConnectionIssue, ConnectionStatus, OutboxItem, SyncConflict, SyncRun

EDITABLE = ("name", "base_url", "administration_id", "sync_interval_minutes")


class ConnectionForm(forms.ModelForm):
    api_token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only. Leave empty to keep the current token.",
    )

    class Meta:
        model = Connection
        fields = ("provider", "name", "base_url", "administration_id", "status",
                  "sync_interval_minutes")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.fields["api_token"].required = True
            self.fields["api_token"].help_text = "Write-only: it is never shown again."
            self.fields["base_url"].required = False
            self.fields["status"].disabled = True
        else:
            self.fields["provider"].disabled = True
            self.fields["status"].choices = [
                (value, label) for value, label in ConnectionStatus.choices
                if value != ConnectionStatus.NEEDS_ATTENTION or value == self.instance.status
            ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        provider = cleaned.get("provider") or self.instance.provider
        if provider and "administration_id" in cleaned:
            try:
                cleaned["base_url"] = services.connection_validate(
                    provider=provider, base_url=cleaned.get("base_url"),
                    administration_id=cleaned["administration_id"], name=cleaned.get("name"),
                    sync_interval_minutes=cleaned.get("sync_interval_minutes"),
                    exclude_pk=None if self.instance._state.adding else self.instance.pk,
                )  # fmt: skip
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    self.add_error(name if name in self.fields else None, errors)
        return cleaned

    def validate_unique(self):
        """Uniqueness is checked by `connection_validate` above (with a field error)."""


class IssueInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConnectionIssue
    fields = ("kind", "message", "created_at", "last_seen_at", "resolved_at", "resolved_by")
    readonly_fields = fields
    allow_change = True
    extra = 0
    ordering = ("resolved_at", "-created_at")
    show_change_link = True


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    inlines = [IssueInline]
    list_display = ("name", "provider", "administration_id", "status", "open_issue_count",
                    "last_pushed_at", "last_pulled_at", "sync_interval_minutes")  # fmt: skip
    list_filter = ("status", "provider")
    search_fields = ("name", "administration_id")
    readonly_fields = ("has_credentials", "last_pushed_at", "last_pulled_at", "created_by",
                       "created_at", "updated_at")  # fmt: skip
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "provider",
                    "name",
                    "base_url",
                    "administration_id",
                    "api_token",
                    "has_credentials",
                )
            },
        ),
        (
            "Sync",
            {"fields": ("status", "sync_interval_minutes", "last_pushed_at", "last_pulled_at")},
        ),
        ("Dates", {"fields": ("created_by", "created_at", "updated_at")}),
    )
    actions = ["sync_now", "disable", "reactivate"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_open_issues=Count("issues", filter=Q(issues__resolved_at__isnull=True)))
        )

    @admin.display(description="open issues", ordering="_open_issues")
    def open_issue_count(self, connection):
        return connection._open_issues

    @admin.display(description="API token stored", boolean=True)
    def has_credentials(self, connection):
        return connection.has_credentials

    def has_delete_permission(self, request, obj=None):
        """Connections are disabled, not deleted: sync runs and links refer to them."""
        return False

    @method_decorator(sensitive_post_parameters("api_token"))
    def changeform_view(self, request, *args, **kwargs):
        """The token is masked in error reports of this form, like Django's passwords."""
        return super().changeform_view(request, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        token = data.get("api_token") or None
        if not change:
            created = services.connection_create(
                provider=data["provider"], name=data["name"], base_url=data["base_url"],
                administration_id=data["administration_id"], api_token=token or "",
                sync_interval_minutes=data["sync_interval_minutes"], by=request.user,
            )  # fmt: skip
            obj.pk = created.pk
        else:
            changes = {name: data[name] for name in EDITABLE if name in form.changed_data}
            if "status" in form.changed_data:
                changes["status"] = data["status"]
            services.connection_update(connection=obj, by=request.user, api_token=token, **changes)
        obj.refresh_from_db()
        obj._state.adding = False

    def has_run_sync_permission(self, request):
        return request.user.has_perm("integrations.run_sync")

    @admin.action(description="Sync now", permissions=["run_sync"])
    def sync_now(self, request, queryset):
        for connection in queryset:
            try:
                run = services.sync_run_start(connection=connection, by=request.user)
            except services.SyncAlreadyRunning as exc:
                self.message_user(request, f"{connection}: {exc}", messages.WARNING)
            except services.ConnectionNotActive as exc:
                self.message_user(request, f"{connection}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{connection}: sync queued ({run.pk}).",
                                  messages.SUCCESS)  # fmt: skip

    @admin.action(description="Disable selected connections", permissions=["change"])
    def disable(self, request, queryset):
        for connection in queryset:
            services.connection_disable(connection=connection, by=request.user)
        self.message_user(request, f"{len(queryset)} connection(s) disabled.", messages.SUCCESS)

    @admin.action(description="Reactivate selected connections", permissions=["change"])
    def reactivate(self, request, queryset):
        done = 0
        for connection in queryset:
            try:
                services.connection_update(
                    connection=connection, by=request.user, status=ConnectionStatus.ACTIVE
                )
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{connection}: {' '.join(exc.messages)}",
                                  messages.ERROR)  # fmt: skip
        self.message_user(request, f"{done} connection(s) reactivated.", messages.SUCCESS)


class OpenListFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(ConnectionIssue)
class ConnectionIssueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("connection", "kind", "message", "created_at", "last_seen_at", "resolved_at")
    list_filter = (OpenListFilter, "kind")
    list_select_related = ("connection",)
    search_fields = ("message", "connection__name")
    readonly_fields = ("connection", "kind", "message", "created_at", "last_seen_at",
                       "resolved_at", "resolved_by")  # fmt: skip
    actions = ["resolve"]
    allow_change = True  # the resolve action

    @admin.action(description="Mark selected issues resolved", permissions=["change"])
    def resolve(self, request, queryset):
        open_ = queryset.filter(resolved_at__isnull=True)
        count = 0
        for issue in open_:
            services.connection_issue_resolve(issue=issue, by=request.user)
            count += 1
        self.message_user(request, f"{count} issue(s) resolved.", messages.SUCCESS)


@admin.register(OutboxItem)
class OutboxItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox: every push, its state and last error. Read-only but for "retry now"."""

    list_display = ("kind", "status", "connection", "invoice", "attempts", "next_attempt_at",
                    "last_error", "created_at", "completed_at")  # fmt: skip
    list_filter = ("status", "kind", "connection")
    list_select_related = ("connection", "invoice")
    search_fields = ("invoice__number", "last_error", "object_id")
    ordering = ("-created_at", "position")
    readonly_fields = ("connection", "kind", "object_id", "invoice", "group", "position",
                       "status", "attempts", "next_attempt_at", "lease_until",
                       "outcome_unknown", "last_error", "requested_by", "created_at",
                       "updated_at", "completed_at")  # fmt: skip
    actions = ["retry_now"]
    allow_change = True  # the retry action

    @admin.action(description="Retry selected items now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = services.outbox_retry_now(items=list(queryset))
        self.message_user(request, f"{count} item(s) queued again.", messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sync runs, read-only: their progress and what went wrong."""

    list_display = ("queued_at", "connection", "status", "trigger", "progress_bar",
                    "created_count", "updated_count", "deleted_count", "failed_count",
                    "started_by", "finished_at")  # fmt: skip
    list_filter = ("status", "trigger", "connection")
    list_select_related = ("connection", "started_by")
    readonly_fields = ("connection", "status", "trigger", "started_by", "progress_bar",
                       "created_count", "updated_count", "deleted_count", "failed_count",
                       "error_list", "queued_at", "started_at", "heartbeat_at", "finished_at",
                       "attempts")  # fmt: skip
    exclude = ("errors", "progress_done", "progress_total")
    date_hierarchy = "queued_at"

    @admin.display(description="progress")
    def progress_bar(self, run):
        return format_html(
            '<progress value="{}" max="{}"></progress> {} of {}',
            run.progress_done, max(run.progress_total, 1), run.progress_done, run.progress_total,
        )  # fmt: skip

    @admin.display(description="errors")
    def error_list(self, run):
        if not run.errors:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} {}: {}</li>",
                ((e.get("kind", ""), e.get("remote_id", ""), e.get("error", ""))
                 for e in run.errors),
            ),
        )  # fmt: skip


@admin.register(SyncConflict)
class SyncConflictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Records changed on both sides: a person decides (see `services.sync_conflict_resolve`)."""

    list_display = ("detected_at", "connection", "kind", "local_id", "remote_id", "resolved_at")
    list_filter = (OpenListFilter, "kind", "connection")
    list_select_related = ("connection",)
    readonly_fields = ("connection", "kind", "local_id", "remote_id", "local_values",
                       "remote_values", "detected_at", "resolved_at", "resolved_by")  # fmt: skip
    actions = ["resolve"]
    allow_change = True  # the resolve action

    @admin.action(description="Resolve: take the accounting system's values at the next sync",
                  permissions=["change"])  # fmt: skip
    def resolve(self, request, queryset):
        count = 0
        for conflict in queryset.filter(resolved_at__isnull=True):
            services.sync_conflict_resolve(conflict=conflict, by=request.user)
            count += 1
        self.message_user(request, f"{count} conflict(s) resolved.", messages.SUCCESS)
