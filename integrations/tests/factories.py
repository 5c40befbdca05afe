"""factory_boy factories for integrations: connections made through the services (so
credentials are encrypted)."""

import factory
from factory.django import DjangoModelFactory

from integrations.models import Connection
from integrations.services import connection_create


class ConnectionFactory(DjangoModelFactory):
    class Meta:
        model = Connection

    name = factory.Sequence(lambda n: f"Moneybird {n + 1}")
    administration_id = factory.Sequence(lambda n: str(900001 + n))
    api_token = "factory-token-0001"

    @classmethod
    def _create(cls, model_class, **fields):
        return connection_create(**fields)
