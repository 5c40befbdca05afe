"""Filters: connections (`?status=`, `?provider=`), sync runs (`?status=`, `?connection=`)."""

from django_filters import rest_framework as filters

from integrations.models import Connection, ConnectionStatus, Provider, SyncRun, SyncRunStatus


class ConnectionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ConnectionStatus.choices)
    provider = filters.ChoiceFilter(choices=Provider.choices)

    class Meta:
        model = Connection
        fields = []


class SyncRunFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=SyncRunStatus.choices)
    connection = filters.UUIDFilter(field_name="connection_id")

    class Meta:
        model = SyncRun
        fields = []
