"""Credentials: check them against the provider (`connection_test`, which changes
nothing) and re-encrypt them under the current key (`credentials_rotate`)."""

import logging
from dataclasses import dataclass

from integrations import clients, crypto
from integrations.models import Connection
from integrations.providers.base import (
    NeedsAttentionError,
    NotFound,
    ProviderError,
    RetryableError,
)

logger = logging.getLogger(__name__)

# --- checking a connection against the provider ----------------------------------------

NEEDS_PERSON, RETRYABLE, PERMANENT = "needs_person", "retryable", "permanent"


def error_kind(error: ProviderError) -> str:
    """The provider error family as the API names it."""
    if isinstance(error, NeedsAttentionError):
        return NEEDS_PERSON
    if isinstance(error, RetryableError):
        return RETRYABLE
    return PERMANENT


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    administration: dict | None = None
    error: dict | None = None

    def as_dict(self) -> dict:
        if self.ok:
            return {"ok": True, "administration": self.administration}
        return {"ok": False, "error": self.error}


def connection_test(*, connection: Connection, by=None) -> ConnectionCheck:
    """Ask the provider whether the credentials open the administration. Never raises
    for provider trouble: the outcome is the answer. Changes nothing (a failed check
    does not mark the connection; the runners do that when a push or a sync fails)."""
    try:
        # Short timeouts and one retry: a person is waiting, and so is a web worker.
        with clients.client_for(connection, read_timeout=10.0, retries=1) as client:
            name = client.check()
    except NotFound as error:  # the token works, but not for this administration
        return _failed(connection, NEEDS_PERSON, error)
    except ProviderError as error:
        return _failed(connection, error_kind(error), error)
    except (KeyError, TypeError, ValueError, AttributeError):
        # A body the client could not read (it does not check the shape of this list).
        return _failed(connection, RETRYABLE, "The provider sent an answer that could not be read")
    logger.info(
        "integrations: connection %s checked by %s: ok", connection.pk, getattr(by, "pk", None)
    )
    return ConnectionCheck(
        ok=True, administration={"id": connection.administration_id, "name": name}
    )


def _failed(connection: Connection, kind: str, error) -> ConnectionCheck:
    logger.info(
        "integrations: connection %s check failed: %s (%s)",
        connection.pk,
        kind,
        type(error).__name__ if isinstance(error, Exception) else "unreadable",
    )
    return ConnectionCheck(ok=False, error={"kind": kind, "detail": str(error)})


# --- key rotation ------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    rotated: int
    current: int
    failed: list[str]


def credentials_rotate() -> RotationResult:
    """Re-encrypt every stored credential with the first key of FIELD_ENCRYPTION_KEYS.

    Idempotent: credentials already under the first key are left alone. Each row is
    written only if its ciphertext is still the one read (a concurrent token change
    wins). Rows no key opens are listed in `failed` and left as they are.
    """
    rotated = current = 0
    failed = []
    rows = Connection.objects.exclude(encrypted_credentials="").values_list(
        "pk", "encrypted_credentials"
    )
    for pk, ciphertext in rows.iterator(chunk_size=500):
        if crypto.is_current(ciphertext):
            current += 1
            continue
        try:
            new = crypto.rotate(ciphertext)
        except crypto.DecryptionError:
            failed.append(str(pk))
            continue
        rotated += Connection.objects.filter(pk=pk, encrypted_credentials=ciphertext).update(
            encrypted_credentials=new
        )
    logger.info(
        "integrations: credentials rotated: %d, already current: %d, unreadable: %d",
        rotated,
        current,
        len(failed),
    )
    return RotationResult(rotated=rotated, current=current, failed=failed)
