"""What syncing keeps per connection: links, the outbox, sync runs and conflicts.

Ownership (DESIGN.md, "Integrations"): Ledgerbridge owns a draft's content; once an
invoice is sent, the accounting system owns its state, number and payments. Contacts
are edited on both sides, so a contact changed on both since the last sync becomes a
`SyncConflict` instead of being overwritten.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from project.models import ResolvableModel, TimestampedModel, UUIDModel

from .connections import Connection


class RemoteKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    INVOICE = "invoice", "Invoice"
    PRODUCT = "product", "Product"
    TAX_RATE = "tax_rate", "Tax rate"
    PAYMENT = "payment", "Payment"


class ExternalLink(models.Model):
    """Our object (`kind`, `local_id`) is the provider's `remote_id` on `connection`.

    `remote_version` is the provider's version at the last sync and `local_version` ours
    (the record's `version`) at that moment: a side whose version moved since changed
    since the last sync. `remote_deleted_at` is set when the id disappeared there (soft:
    our record stays, flagged).
    """

    id = models.BigAutoField(primary_key=True)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=16, choices=RemoteKind.choices)
    local_id = models.UUIDField()
    remote_id = models.CharField(max_length=32)
    remote_version = models.BigIntegerField(null=True, blank=True)
    local_version = models.PositiveIntegerField(null=True, blank=True)
    remote_deleted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "local_id"], name="integrations_link_unique_local"
            ),
            models.UniqueConstraint(
                fields=["connection", "kind", "remote_id"], name="integrations_link_unique_remote"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.local_id} = {self.remote_id}"


class OutboxKind(models.TextChoices):
    ENSURE_CONTACT = "ensure_contact", "Ensure the contact"
    CREATE_INVOICE = "create_invoice", "Create the invoice"
    SEND_INVOICE = "send_invoice", "Send the invoice"
    REGISTER_PAYMENT = "register_payment", "Register a payment"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # permanent (400/404/422): a person must look
    PAUSED = "paused", "Paused"  # the connection needs attention (401 and the like)


class OutboxItem(UUIDModel, TimestampedModel):
    """One push to the accounting system, written in the transaction of its cause.

    Items of one `group` (one finalize or send) run in `position` order: an item waits
    until the ones before it succeeded. `lease_until` is set while a worker holds the
    item; the sweep takes up an item whose lease ran out (its worker died).
    `attempts` counts started attempts; `outcome_unknown` says whether one of them may have
    written without us learning the answer (see `integrations.sync.push`).
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=24, choices=OutboxKind.choices)
    object_id = models.UUIDField(help_text="The contact, invoice or payment it pushes.")
    invoice = models.ForeignKey(
        "records.Invoice", null=True, blank=True, on_delete=models.CASCADE,
        related_name="outbox_items",
    )  # fmt: skip
    group = models.UUIDField(default=uuid.uuid4)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    outcome_unknown = models.BooleanField(
        default=False,
        help_text="A previous attempt may have written at the provider (timeout, dropped "
        "connection, 5xx, a worker that died): look the object up before writing again.",
    )
    last_error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "position"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["group", "position"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"


class SyncRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly succeeded"
    FAILED = "failed", "Failed"


ACTIVE_RUN_STATUSES = (SyncRunStatus.QUEUED, SyncRunStatus.RUNNING)


class SyncTrigger(models.TextChoices):
    MANUAL = "manual", "Started by a person"
    SCHEDULE = "schedule", "Scheduled"


class SyncRun(UUIDModel):
    """One pull of a connection. At most one queued or running run per connection (a
    partial unique index, so it holds across workers). `heartbeat_at` moves while a
    worker works on it; a running run whose heartbeat stopped is taken up again."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(
        max_length=16, choices=SyncRunStatus.choices, default=SyncRunStatus.QUEUED
    )
    trigger = models.CharField(
        max_length=16, choices=SyncTrigger.choices, default=SyncTrigger.MANUAL
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    deleted_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES),
                name="integrations_syncrun_one_active_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection} sync {self.queued_at:%Y-%m-%d %H:%M} ({self.status})"


class SyncConflict(UUIDModel, ResolvableModel):
    """A record changed on both sides since the last sync; neither side was overwritten."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(max_length=16, choices=RemoteKind.choices)
    local_id = models.UUIDField()
    remote_id = models.CharField(max_length=32)
    local_values = models.JSONField(default=dict)
    remote_values = models.JSONField(default=dict)
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "local_id"],
                condition=Q(resolved_at__isnull=True),
                name="integrations_conflict_one_open_per_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.local_id}: changed on both sides"
