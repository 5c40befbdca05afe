"""Input serializers (one per write) and the output serializers of integrations.

`api_token` is accepted on input only: no output serializer has it, and what the API
answers is built from the row, whose credentials are never decrypted for it.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import (
    Connection,
    ConnectionIssue,
    ConnectionStatus,
    OutboxItem,
    Provider,
    SyncRun,
)
from integrations.services import API_TOKEN_MAX_LENGTH, NEEDS_PERSON, PERMANENT, RETRYABLE
from project.api.serializers import StrictInputSerializer

CONNECTION_FIELD_NAMES = frozenset(
    {f.name for f in Connection._meta.get_fields()} | {"has_credentials", "open_issues"}
)

# --- Output ----------------------------------------------------------------------------


class ConnectionIssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectionIssue
        fields = ["id", "kind", "message", "created_at", "last_seen_at"]


class ConnectionSerializer(serializers.ModelSerializer):
    """A connection as the API shows it: never its credentials, only whether it has them."""

    has_credentials = serializers.BooleanField(read_only=True)
    open_issues = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id", "provider", "name", "base_url", "administration_id", "status",
            "has_credentials", "sync_interval_minutes", "last_pushed_at", "last_pulled_at",
            "open_issues", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(ConnectionIssueSerializer(many=True))
    def get_open_issues(self, connection) -> list[dict]:
        issues = getattr(connection, "open_issue_list", None)
        if issues is None:
            issues = connection.issues.filter(resolved_at__isnull=True)
        return ConnectionIssueSerializer(issues, many=True).data


class OutboxStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxItem
        fields = ["id", "kind", "status", "attempts", "next_attempt_at", "last_error",
                  "completed_at"]  # fmt: skip


class OutboxItemSerializer(serializers.ModelSerializer):
    """A push to the accounting system: this item (`send_invoice`) and the steps of its
    group in order (ensure the contact, create the invoice, send it)."""

    steps = serializers.SerializerMethodField()

    class Meta:
        model = OutboxItem
        fields = [
            "id", "connection", "invoice", "kind", "status", "attempts", "next_attempt_at",
            "last_error", "steps", "created_at", "updated_at", "completed_at",
        ]  # fmt: skip

    @extend_schema_field(OutboxStepSerializer(many=True))
    def get_steps(self, item) -> list[dict]:
        steps = OutboxItem.objects.filter(group=item.group).order_by("position")
        return OutboxStepSerializer(steps, many=True).data


class ConnectionCheckErrorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[NEEDS_PERSON, RETRYABLE, PERMANENT])
    detail = serializers.CharField()


class AdministrationSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class ConnectionCheckSerializer(serializers.Serializer):
    """`ok` with the administration found, or the error: `needs_person` (fix the token,
    scope, plan or URL), `retryable` (provider down or busy: try later), `permanent`."""

    ok = serializers.BooleanField()
    administration = AdministrationSerializer(required=False)
    error = ConnectionCheckErrorSerializer(required=False)


class SyncRunProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class SyncRunCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()
    failed = serializers.IntegerField()


class SyncRunErrorSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False)
    remote_id = serializers.CharField(required=False)
    error = serializers.CharField()
    retry_at = serializers.DateTimeField(required=False)


class SyncRunUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class SyncRunSerializer(serializers.ModelSerializer):
    """A pull of a connection: poll it until `status` is succeeded, partial or failed."""

    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    errors = SyncRunErrorSerializer(many=True, read_only=True)
    started_by = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = ["id", "connection", "status", "trigger", "progress", "counts", "errors",
                  "started_by", "queued_at", "started_at", "finished_at"]  # fmt: skip

    @extend_schema_field(SyncRunProgressSerializer)
    def get_progress(self, run) -> dict:
        return {"done": run.progress_done, "total": run.progress_total}

    @extend_schema_field(SyncRunCountsSerializer)
    def get_counts(self, run) -> dict:
        return {"created": run.created_count, "updated": run.updated_count,
                "deleted": run.deleted_count, "failed": run.failed_count}  # fmt: skip

    @extend_schema_field(SyncRunUserSerializer(allow_null=True))
    def get_started_by(self, run) -> dict | None:
        user = run.started_by
        return {"id": str(user.pk), "email": user.email} if user is not None else None


# --- Input -----------------------------------------------------------------------------


class ConnectionInputSerializer(StrictInputSerializer):
    known_field_names = CONNECTION_FIELD_NAMES


def _api_token_field(**kwargs):
    return serializers.CharField(
        max_length=API_TOKEN_MAX_LENGTH, write_only=True, trim_whitespace=True,
        style={"input_type": "password"}, help_text="Write-only: never returned.", **kwargs,
    )  # fmt: skip


class ConnectionCreateSerializer(ConnectionInputSerializer):
    provider = serializers.ChoiceField(choices=Provider.choices)
    name = serializers.CharField(max_length=100)
    base_url = serializers.CharField(
        max_length=200, required=False, allow_blank=True,
        help_text="The provider's API root; leave out for the provider's production URL.",
    )  # fmt: skip
    administration_id = serializers.CharField(max_length=32)
    api_token = _api_token_field()
    sync_interval_minutes = serializers.IntegerField(
        min_value=1, max_value=1440, required=False, default=15
    )


class ConnectionUpdateSerializer(ConnectionInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    base_url = serializers.CharField(max_length=200, required=False)
    administration_id = serializers.CharField(max_length=32, required=False)
    api_token = _api_token_field(required=False)
    status = serializers.ChoiceField(
        choices=[ConnectionStatus.ACTIVE, ConnectionStatus.DISABLED], required=False,
        help_text="`disabled` pauses syncing; `active` reactivates (resolving open issues).",
    )  # fmt: skip
    sync_interval_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
