"""`bench.urls_records` with `FastOutputMixin` switched off: DRF's own `to_representation`."""

from rest_framework import serializers

from bench.urls_records import handler404, handler500, urlpatterns
from project.api.serializers import FastOutputMixin

__all__ = ["handler404", "handler500", "urlpatterns"]

FastOutputMixin.to_representation = serializers.Serializer.to_representation
