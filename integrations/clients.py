"""The provider registry (`PROVIDERS`: which client serves which provider), and a ready
client for a connection.

A second provider is a package under `providers/` (its client and its mapping), a
`Provider` choice and an entry in `PROVIDERS`; the runners in `sync/` do not change.
This is the one place that turns a `Connection` row into an `AccountingProvider`: it
checks the base URL with the provider's outbound URL policy (`providers/http.py`) and
decrypts the credentials at the last moment. Problems that need a person are raised as
`NeedsAttentionError`s, like the client's own, so callers branch on the three families
of `providers/base.py` only.
"""

from dataclasses import dataclass

from django.conf import settings

from . import crypto
from .models import Connection, Provider
from .providers import moneybird
from .providers.base import AccountingProvider, NeedsAttentionError
from .providers.http import check_outbound_url
from .selectors import connection_credentials


class MissingCredentials(NeedsAttentionError):
    """The connection has no API token (it was erased when the connection was deleted)."""


class CredentialsUnreadable(NeedsAttentionError):
    """No key in FIELD_ENCRYPTION_KEYS opens the stored credentials."""


@dataclass(frozen=True)
class ProviderSpec:
    default_url: str
    hosts: frozenset[str]
    client_class: type


PROVIDERS: dict[str, ProviderSpec] = {
    Provider.MONEYBIRD: ProviderSpec(
        default_url=moneybird.PRODUCTION_URL,
        hosts=frozenset(moneybird.PROVIDER_HOSTS),
        client_class=moneybird.MoneybirdClient,
    ),
}


def check_base_url(provider: str, url: str) -> str:
    """`url` normalized (no trailing slash) if the outbound policy allows it for
    `provider`; raises `UnsafeURL` (with a message naming the reason) otherwise."""
    return check_outbound_url(
        url,
        provider_hosts=set(PROVIDERS[provider].hosts),
        allow_local=getattr(settings, "INTEGRATIONS_ALLOW_LOCAL_URLS", False),
    )


def client_for(connection: Connection, **options) -> AccountingProvider:
    """A client for `connection` (close it, or use it as a context manager).
    `options` go to the client (timeouts, retries, budget)."""
    try:
        credentials = connection_credentials(connection)
    except crypto.DecryptionError as exc:
        raise CredentialsUnreadable(str(exc)) from None
    if credentials is None:
        raise MissingCredentials("The connection has no API token; set a new one")
    spec = PROVIDERS[connection.provider]
    return spec.client_class(
        base_url=connection.base_url,
        administration_id=connection.administration_id,
        token=credentials.api_token,
        **options,
    )
