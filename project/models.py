"""Abstract model bases the apps share (no tables of their own).

- `UUIDModel`: a random UUID primary key (DESIGN.md: UUID keys in URLs and bodies).
- `TimestampedModel`: `created_at` (set on insert) and `updated_at` (set on every save,
  and named in every `save(update_fields=[...])` that should move it).
- `ResolvableModel`: a problem a person resolves (`resolved_at`, `resolved_by`), with the
  `open()` rows and `resolve(by=...)` on its querysets: one conditional UPDATE, so two
  people resolving at once resolve it once.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class UUIDModel(models.Model):
    """A random UUID primary key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(models.Model):
    """When the row was created and last saved."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ResolvableQuerySet(models.QuerySet):
    def open(self) -> "ResolvableQuerySet":
        """The rows nobody has resolved yet."""
        return self.filter(resolved_at__isnull=True)

    def resolve(self, *, by=None) -> int:
        """Mark the open rows among these resolved now, by `by` (a person, or None for
        the system); rows resolved already keep who and when. Returns how many."""
        person = by if getattr(by, "is_authenticated", False) else None
        return self.open().update(resolved_at=timezone.now(), resolved_by=person)


class ResolvableModel(models.Model):
    """A problem that stays open until a person (or the system) resolves it."""

    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ResolvableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
