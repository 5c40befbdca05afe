"""Connections: validate, create, change, disable.

Services are keyword-only and raise `django.core.exceptions.ValidationError` with a
field dict for bad input; interfaces turn it into a 400 (API) or form errors (admin).
API tokens are never logged, never put in an error message, and stored only encrypted
(`crypto.py`).
"""

import json
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integrations import clients, crypto
from integrations.models import Connection, ConnectionStatus, Provider
from integrations.providers.base import UnsafeURL

from .issues import issues_resolve_open
from .outbox import outbox_resume

logger = logging.getLogger(__name__)

API_TOKEN_MAX_LENGTH = 1000
UNIQUE_MESSAGE = "A connection to this administration already exists."
# --- validation ------------------------------------------------------------------------


def _validate_api_token(api_token: str) -> str:
    token = (api_token or "").strip()
    if not token:
        raise ValidationError({"api_token": ["The API token cannot be blank."]})
    if (
        len(token) > API_TOKEN_MAX_LENGTH
        or not token.isprintable()
        or any(c.isspace() for c in token)
    ):
        raise ValidationError({"api_token": ["This is not a valid API token."]})
    return token


def connection_validate(
    *,
    provider: str,
    base_url: str | None,
    administration_id: str,
    name: str | None = None,
    sync_interval_minutes: int | None = None,
    exclude_pk=None,
) -> str:
    """Check a connection's fields; returns the normalized base URL (the provider's
    production URL when `base_url` is empty). Raises ValidationError naming each field."""
    errors: dict[str, list[str]] = {}
    if provider not in clients.PROVIDERS:
        raise ValidationError({"provider": [f"Unknown provider {provider!r}."]})
    url = (base_url or "").strip() or clients.PROVIDERS[provider].default_url
    try:
        url = clients.check_base_url(provider, url)
    except UnsafeURL as exc:
        errors["base_url"] = [f"{exc.message}."]
    administration_id = (administration_id or "").strip()
    if not administration_id.isdigit() or len(administration_id) > 32:
        errors["administration_id"] = ["The administration id is a number (up to 32 digits)."]
    if name is not None and not name.strip():
        errors["name"] = ["The name cannot be blank."]
    if sync_interval_minutes is not None and not 1 <= sync_interval_minutes <= 1440:
        errors["sync_interval_minutes"] = ["Between 1 and 1440 minutes."]
    if not errors:
        taken = Connection.objects.filter(
            provider=provider, base_url=url, administration_id=administration_id
        )
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            errors["administration_id"] = [UNIQUE_MESSAGE]
    if errors:
        raise ValidationError(errors)
    return url


def _encrypt_credentials(api_token: str) -> str:
    return crypto.encrypt(json.dumps({"api_token": api_token}))


def _save(connection: Connection, **kwargs) -> None:
    """Save; the unique constraint lost to a concurrent write becomes a field error."""
    try:
        with transaction.atomic():
            connection.save(**kwargs)
    except IntegrityError as exc:
        if "integrations_connection_unique_administration" in str(exc):
            raise ValidationError({"administration_id": [UNIQUE_MESSAGE]}) from None
        raise


def _locked(connection: Connection) -> Connection:
    return Connection.objects.select_for_update().get(pk=connection.pk)


# --- connections -------------------------------------------------------------------------


@transaction.atomic
def connection_create(
    *,
    provider: str = Provider.MONEYBIRD,
    name: str,
    administration_id: str,
    api_token: str,
    base_url: str | None = None,
    sync_interval_minutes: int = 15,
    by=None,
) -> Connection:
    """A new, active connection; the API token is stored encrypted. Nothing is sent to
    the provider (see `connection_test`)."""
    token = _validate_api_token(api_token)
    url = connection_validate(
        provider=provider,
        base_url=base_url,
        administration_id=administration_id,
        name=name,
        sync_interval_minutes=sync_interval_minutes,
    )
    connection = Connection(
        provider=provider,
        name=name.strip(),
        base_url=url,
        administration_id=administration_id.strip(),
        sync_interval_minutes=sync_interval_minutes,
        encrypted_credentials=_encrypt_credentials(token),
        created_by=by,
    )
    _save(connection, force_insert=True)
    logger.info(
        "integrations: connection %s (%s, administration %s) created by %s",
        connection.pk,
        provider,
        connection.administration_id,
        getattr(by, "pk", None),
    )
    return connection


@transaction.atomic
def connection_update(
    *,
    connection: Connection,
    by=None,
    name: str | None = None,
    base_url: str | None = None,
    administration_id: str | None = None,
    api_token: str | None = None,
    status: str | None = None,
    sync_interval_minutes: int | None = None,
) -> Connection:
    """Change what is given (None: unchanged). `status` may be `active` (reactivate:
    needs an API token, resolves the open issues) or `disabled`; `needs_attention` is
    set only by the system. The administration cannot change once anything was synced
    (the links to its records would point into another administration). Reactivating
    resumes the connection's paused outbox items."""
    current = _locked(connection)
    if status is not None and status not in (ConnectionStatus.ACTIVE, ConnectionStatus.DISABLED):
        raise ValidationError(
            {"status": ["Only active or disabled can be set; needs_attention is set by the sync."]}
        )
    token = _validate_api_token(api_token) if api_token is not None else None
    new_admin = administration_id.strip() if administration_id is not None else None
    if (
        new_admin is not None
        and new_admin != current.administration_id
        and (current.last_pushed_at or current.last_pulled_at)
    ):
        message = "The administration cannot change after a sync; create a new connection instead."
        raise ValidationError({"administration_id": [message]})
    changed: list[str] = []
    if (
        base_url is not None
        or new_admin is not None
        or name is not None
        or (sync_interval_minutes is not None)
    ):
        url = connection_validate(
            provider=current.provider,
            base_url=base_url if base_url is not None else current.base_url,
            administration_id=new_admin if new_admin is not None else current.administration_id,
            name=name,
            sync_interval_minutes=sync_interval_minutes,
            exclude_pk=current.pk,
        )
        updates = {
            "base_url": url,
            "administration_id": new_admin,
            "name": name.strip() if name is not None else None,
            "sync_interval_minutes": sync_interval_minutes,
        }
        for attr, value in updates.items():
            if value is not None and getattr(current, attr) != value:
                setattr(current, attr, value)
                changed.append(attr)
    if token is not None:
        current.encrypted_credentials = _encrypt_credentials(token)
        changed.append("encrypted_credentials")
    if status == ConnectionStatus.ACTIVE and current.status != ConnectionStatus.ACTIVE:
        if not current.encrypted_credentials:
            raise ValidationError(
                {"api_token": ["Send a new API token to reactivate this connection."]}
            )
        current.status = ConnectionStatus.ACTIVE
        changed.append("status")
        issues_resolve_open(connection=current, by=by)
    elif status == ConnectionStatus.DISABLED and current.status != ConnectionStatus.DISABLED:
        current.status = ConnectionStatus.DISABLED
        changed.append("status")
    if changed:
        _save(current, update_fields=[*changed, "updated_at"])
        logger.info(
            "integrations: connection %s changed (%s) by %s",
            current.pk,
            ", ".join(sorted(changed)),
            getattr(by, "pk", None),
        )
    if "status" in changed and current.status == ConnectionStatus.ACTIVE:
        outbox_resume(connection=current)  # un-pause its outbox items
    return current


@transaction.atomic
def connection_disable(
    *, connection: Connection, by=None, erase_credentials: bool = False
) -> Connection:
    """Stop syncing this connection; the row stays (sync runs, links and the outbox
    refer to it). With `erase_credentials` (the API's DELETE) the API token is removed
    too, so reactivating needs a new one. Idempotent."""
    current = _locked(connection)
    changed = []
    if current.status != ConnectionStatus.DISABLED:
        current.status = ConnectionStatus.DISABLED
        changed.append("status")
    if erase_credentials and current.encrypted_credentials:
        current.encrypted_credentials = ""
        changed.append("encrypted_credentials")
    if changed:
        current.save(update_fields=[*changed, "updated_at"])
        logger.info(
            "integrations: connection %s disabled%s by %s",
            current.pk,
            " and its credentials erased" if erase_credentials else "",
            getattr(by, "pk", None),
        )
    return current
