"""Opaque tokens and the access-token store.

A token is `secrets.token_urlsafe(32)`; only its SHA-256 digest is ever kept. Access
tokens live in the Django cache (Redis, or the embedded Valkey) under
`auth:access:<digest>` with the cache TTL as clean-up; the value also carries its
expiry time, which is what is checked, so the rule does not depend on the cache's
clock. Looking a token up is one cache round trip.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache

ACCESS_KEY_PREFIX = "auth:access:"
EMAIL_VERIFICATION_SALT = "accounts.verify-email"
MAX_TOKEN_LENGTH = 256  # anything longer is malformed; never hashed or looked up


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def access_key(digest: str) -> str:
    return f"{ACCESS_KEY_PREFIX}{digest}"


@dataclass(frozen=True)
class AccessGrant:
    """What an access token stands for: request.auth for token-authenticated calls."""

    user_id: str
    session_id: str
    role: str | None
    expires_at: float  # epoch seconds

    def as_value(self) -> dict:
        return {"u": self.user_id, "s": self.session_id, "r": self.role, "e": self.expires_at}

    @classmethod
    def from_value(cls, value) -> "AccessGrant | None":
        try:
            return cls(value["u"], value["s"], value["r"], float(value["e"]))
        except (TypeError, KeyError, ValueError):
            return None


def access_token_store(*, user_id, session_id, role: str | None) -> tuple[str, str, AccessGrant]:
    """Create an access token; returns (token, digest, grant)."""
    token = new_token()
    digest = token_digest(token)
    ttl = settings.ACCESS_TOKEN_TTL
    grant = AccessGrant(str(user_id), str(session_id), role, time.time() + ttl)
    cache.set(access_key(digest), grant.as_value(), timeout=ttl)
    return token, digest, grant


def access_token_lookup(token: str) -> AccessGrant | None:
    """The live grant for `token`, or None (unknown, expired, revoked, malformed)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    grant = AccessGrant.from_value(cache.get(access_key(token_digest(token))))
    if grant is None or grant.expires_at <= time.time():
        return None
    return grant


def access_tokens_delete(digests) -> None:
    keys = [access_key(d) for d in digests if d]
    if keys:
        cache.delete_many(keys)


def email_verification_token(*, user) -> str:
    """A signed token naming the user and the address it verifies (never stored)."""
    return signing.dumps({"u": str(user.pk), "e": user.email}, salt=EMAIL_VERIFICATION_SALT)
