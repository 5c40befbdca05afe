"""Accounting connections and the problems on them that need a person."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from project.models import ResolvableModel, TimestampedModel, UUIDModel


class Provider(models.TextChoices):
    MONEYBIRD = "moneybird", "Moneybird"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    DISABLED = "disabled", "Disabled"


class Connection(UUIDModel, TimestampedModel):
    """One administration in an accounting system, with its (encrypted) credentials.

    `encrypted_credentials` holds a Fernet token of a JSON object (`{"api_token": ...}`)
    and is read only through `integrations.selectors.connection_credentials`; it is never
    decrypted on load, so the plaintext is not in the instance, its repr or any queryset.
    """

    provider = models.CharField(max_length=32, choices=Provider.choices)
    name = models.CharField(max_length=100)
    base_url = models.CharField(max_length=200, help_text="The provider's API root URL.")
    administration_id = models.CharField(max_length=32)
    encrypted_credentials = models.TextField(blank=True, default="", editable=False)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE
    )
    sync_interval_minutes = models.PositiveIntegerField(default=15)
    last_pushed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_pulled_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )  # fmt: skip

    class Meta:
        ordering = ["name", "created_at"]
        permissions = [("run_sync", "Can trigger a sync")]
        constraints = [
            # Two connections to one administration would push every invoice twice.
            models.UniqueConstraint(
                fields=["provider", "base_url", "administration_id"],
                name="integrations_connection_unique_administration",
                violation_error_message="A connection to this administration already exists.",
            ),
            models.CheckConstraint(
                condition=Q(sync_interval_minutes__gte=1, sync_interval_minutes__lte=1440),
                name="integrations_connection_sync_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConnectionStatus.values),
                name="integrations_connection_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_credentials(self) -> bool:
        return bool(self.encrypted_credentials)


class IssueKind(models.TextChoices):
    AUTHENTICATION = "authentication", "Authentication failed"
    MISSING_SCOPE = "missing_scope", "Missing permission"
    PLAN_LIMIT = "plan_limit", "Plan limit reached"
    CONFIGURATION = "configuration", "Configuration"
    CREDENTIALS = "credentials", "Credentials unreadable"
    OTHER = "other", "Other"


class ConnectionIssue(UUIDModel, ResolvableModel):
    """A problem on a connection that a person must resolve (written by the sync engine).

    At most one open issue per connection and kind: a repeat updates its message.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="issues")
    kind = models.CharField(max_length=32, choices=IssueKind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="integrations_issue_one_open_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["connection", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.connection}: {self.get_kind_display()}"
