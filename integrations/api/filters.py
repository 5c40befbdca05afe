"""Filters for the connections list: `?status=`, `?provider=`."""

from django_filters import rest_framework as filters

from integrations.models import Connection, ConnectionStatus, Provider


class ConnectionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ConnectionStatus.choices)
    provider = filters.ChoiceFilter(choices=Provider.choices)

    class Meta:
        model = Connection
        fields = []
