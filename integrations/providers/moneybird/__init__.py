"""The Moneybird provider: `client.py` (the hardened API v2 client behind
`AccountingProvider`) and `mapping.py` (Moneybird's field names, state strings and texts
to and from Ledgerbridge's data classes). Nothing outside this package knows them."""

from .client import PRODUCTION_URL, PROVIDER_HOSTS, MoneybirdClient

__all__ = ["PRODUCTION_URL", "PROVIDER_HOSTS", "MoneybirdClient"]
