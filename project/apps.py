from datetime import UTC

from django.apps import AppConfig

from . import checks  # noqa: F401  registers the deployment checks (no models needed)


def _utc(field) -> object:
    return UTC


class ProjectConfig(AppConfig):
    """The project package as an app: management commands and API-wide conventions."""

    name = "project"
    label = "project"
    verbose_name = "Ledgerbridge"

    def ready(self):
        # DESIGN.md: API datetimes are ISO 8601 in UTC. DRF renders them in the current
        # time zone (TIME_ZONE, the business's, which stays right for local dates such
        # as "today" for due dates and ages); every DateTimeField renders, and reads
        # naive input, in UTC instead.
        from rest_framework import serializers

        serializers.DateTimeField.default_timezone = _utc
