"""ExternalLink reads and writes: which remote id our object has on a connection."""

from collections.abc import Iterable

from django.utils import timezone

from integrations.models import Connection, ExternalLink, RemoteKind


def link_get(*, connection: Connection, kind: RemoteKind, local_id) -> ExternalLink | None:
    return ExternalLink.objects.filter(connection=connection, kind=kind, local_id=local_id).first()


def links_by_remote_id(
    *, connection: Connection, kind: RemoteKind, remote_ids: Iterable[str] | None = None
) -> dict[str, ExternalLink]:
    """The links of `kind` on `connection` keyed by remote id (all of them by default)."""
    links = ExternalLink.objects.filter(connection=connection, kind=kind)
    if remote_ids is not None:
        links = links.filter(remote_id__in=list(remote_ids))
    return {link.remote_id: link for link in links}


def link_set(
    *, connection: Connection, kind: RemoteKind, local_id, remote_id: str,
    remote_version: int | None, local_version: int | None = None,
) -> ExternalLink:  # fmt: skip
    """Create or update the link of our object (idempotent; the remote id may change only
    from nothing to something, which the unique constraints enforce)."""
    link, _ = ExternalLink.objects.update_or_create(
        connection=connection, kind=kind, local_id=local_id,
        defaults={
            "remote_id": remote_id, "remote_version": remote_version,
            "local_version": local_version, "remote_deleted_at": None,
            "synced_at": timezone.now(),
        },
    )  # fmt: skip
    return link
