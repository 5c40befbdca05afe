"""Connections for tests, made through the services (so credentials are encrypted)."""

from integrations.services import connection_create

_counter = iter(range(1, 10**9))


def make_connection(*, api_token: str = "factory-token-0001", **fields):
    fields.setdefault("name", f"Moneybird {next(_counter)}")
    fields.setdefault("administration_id", str(900000 + next(_counter)))
    return connection_create(api_token=api_token, **fields)
