"""The client's address, for everything that keys on it (lockout, throttles, sessions).

Behind reverse proxies every request comes from the last proxy, so `REMOTE_ADDR` is the
proxy's address. Each proxy appends the address it received the request from to
`X-Forwarded-For`; with `TRUSTED_PROXY_COUNT` proxies in front of the app, the client is
the entry that many places from the right. Entries further left were written by the
client and can say anything, so they are never read. With no trusted proxy (the
default) the header is ignored altogether.
"""

import ipaddress

from django.conf import settings


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The address of the client that sent `request` (a Django or DRF request)."""
    meta = request.META
    peer = _address(meta.get("REMOTE_ADDR"))
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return peer
    forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return peer  # it did not pass every proxy: only the peer is known
    return _address(forwarded[-hops]) or peer
