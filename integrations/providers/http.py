"""Pieces every provider client shares: the outbound URL policy, `Retry-After`
and amount parsing."""

import ipaddress
import math
import re
from datetime import UTC
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .base import UnsafeURL

LOCAL_HOSTNAMES = {"localhost"}
# Above this a bare number is an absolute Unix time, below it a delay in seconds:
# 10^9 seconds is 31 years of delay, or September 2001 as a date.
EPOCH_THRESHOLD = 1_000_000_000


def check_outbound_url(url: str, *, provider_hosts: set[str], allow_local: bool) -> str:
    """Refuse, before any request, every URL but `https` to the provider's own host and,
    only when `allow_local` (INTEGRATIONS_ALLOW_LOCAL_URLS), plain-http loopback.
    Private ranges, link-local, other hosts and schemes, and credentials in the URL
    are refused. Returns the URL without a trailing slash."""
    try:
        split = urlsplit(url)
        host = (split.hostname or "").lower()
        split.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise UnsafeURL("The provider URL is malformed") from None
    if split.username or split.password:
        raise UnsafeURL("The provider URL must not contain credentials")
    if split.query or split.fragment:
        raise UnsafeURL("The provider URL must not have a query or fragment")
    if split.scheme == "https" and host in provider_hosts:
        return url.rstrip("/")
    if allow_local and split.scheme in ("http", "https") and _is_loopback(host):
        return url.rstrip("/")
    if split.scheme not in ("http", "https"):
        raise UnsafeURL(f"The provider URL scheme {split.scheme!r} is not allowed")
    raise UnsafeURL(f"The provider URL host {host!r} is not allowed")


def _is_loopback(host: str) -> bool:
    if host in LOCAL_HOSTNAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """`Retry-After` as an absolute Unix time, in each form servers send:
    an absolute epoch (Moneybird), a delay in seconds (RFC 9110), an HTTP date;
    None when missing or unreadable (the caller falls back to backoff)."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,12}", value):
        number = int(value)
        return float(number) if number >= EPOCH_THRESHOLD else now + number
    if not value or value[0].isdigit() or value[0] == "-":
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = moment.timestamp()
    return epoch if math.isfinite(epoch) else None


def parse_amount(value) -> Decimal:
    """Moneybird's decimal strings (`"300.0"`, `"-363.0"`) as Decimal, never via float.
    JSON numbers must already be Decimal (parse JSON with `parse_float=Decimal`)."""
    if isinstance(value, (bool, float)) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    else:
        raise ValueError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return result
