"""The outbox: what is to be pushed to the accounting system, written in the transaction
of its cause and handed to a worker after commit.

`invoice_enqueue` (the receiver of `records.events.invoice_finalized`, and the send
endpoint through `invoice_send`) writes one group per active connection: `ensure_contact`
(0), `create_invoice` (1), `send_invoice` (2). The first item is handed to a worker after
commit (`outbox_dispatch`), and each item hands on the next when it succeeded (see
`outbox_items.py`). A payment registered on a pushed invoice (`on_payment_registered`)
becomes a `register_payment` item at the end of that invoice's group, so it goes out once
the invoice is sent there.

A connection that needs a person pauses its open items (`outbox_pause`); reactivating it
resumes them (`outbox_resume`). The sweep (`outbox_sweep`, every minute) dispatches what
is due and was missed: pending items whose time has come and in-progress items whose
lease ran out. The admin's "retry now" is `outbox_retry_now`.
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations import queue
from integrations.models import Connection, ConnectionStatus, OutboxItem, OutboxKind, OutboxStatus
from project.errors import Conflict
from records import services as records_services
from records.models import AccountingStatus, Interface, Invoice, InvoiceStatus

logger = logging.getLogger(__name__)

INVOICE_STEPS = (OutboxKind.ENSURE_CONTACT, OutboxKind.CREATE_INVOICE, OutboxKind.SEND_INVOICE)
SWEEP_GRACE = timedelta(seconds=30)  # a fresh item is the after-commit dispatch's to run
SWEEP_LIMIT = 500


class NotSendable(Conflict):
    """The invoice cannot be pushed (its state, or no active connection)."""


def outbox_dispatch(item_ids) -> None:
    """Queue a push task per item, after the current transaction commits."""
    for pk in item_ids:
        queue.enqueue(queue.PUSH_ITEM, str(pk), queue=settings.INTEGRATIONS_PUSH_QUEUE or None)


def accounting_state_set(invoice_id, **state) -> None:
    """The invoice's accounting summary (records owns the field; see `AccountingStatus`)."""
    records_services.invoice_set_accounting_state(invoice_id=invoice_id, **state)


# --- writing the outbox ----------------------------------------------------------------


def invoice_enqueue(*, invoice: Invoice, by=None) -> list[OutboxItem]:
    """The `send_invoice` item of `invoice` per active connection, writing the group
    (ensure contact, create, send) where none exists yet. Idempotent: an invoice is
    pushed once per connection. Call inside the transaction of the cause."""
    with transaction.atomic():
        send_items, first_items = [], []
        requested_by = by if getattr(by, "pk", None) else None
        for connection in Connection.objects.filter(status=ConnectionStatus.ACTIVE):
            existing = OutboxItem.objects.filter(
                connection=connection, invoice=invoice, kind=OutboxKind.SEND_INVOICE
            ).first()
            if existing is not None:
                send_items.append(existing)
                continue
            group = uuid.uuid4()
            items = OutboxItem.objects.bulk_create(
                OutboxItem(
                    connection=connection,
                    kind=kind,
                    invoice=invoice,
                    group=group,
                    position=position,
                    requested_by=requested_by,
                    object_id=(
                        invoice.contact_id if kind == OutboxKind.ENSURE_CONTACT else invoice.pk
                    ),
                )
                for position, kind in enumerate(INVOICE_STEPS)
            )
            send_items.append(items[-1])
            first_items.append(items[0].pk)
        if first_items:
            accounting_state_set(invoice.pk, status=AccountingStatus.PENDING, last_error="")
            outbox_dispatch(first_items)
    return send_items


def on_invoice_finalized(sender, *, invoice, by=None, via=None, **kwargs) -> None:
    """Receiver of `records.events.invoice_finalized` (connected in apps.py). A change the
    pull made (`via` sync) came from the accounting system and is not pushed back."""
    if via != Interface.SYNC:
        invoice_enqueue(invoice=invoice, by=by)


def on_payment_registered(sender, *, invoice, payment, by=None, via=None, **kwargs) -> None:
    """Receiver of `records.events.payment_registered`: a `register_payment` item at the
    end of each group that pushes this invoice, so it goes out once the invoice is sent.
    A payment the pull brought in (`via` sync) is already there: not pushed back."""
    if via == Interface.SYNC:
        return
    requested_by = by if getattr(by, "pk", None) else None
    sends = OutboxItem.objects.filter(invoice=invoice, kind=OutboxKind.SEND_INVOICE).exclude(
        connection__status=ConnectionStatus.DISABLED
    )
    ready = []
    for send in sends:
        last = OutboxItem.objects.filter(group=send.group).order_by("-position").first()
        item = OutboxItem.objects.create(
            connection_id=send.connection_id,
            kind=OutboxKind.REGISTER_PAYMENT,
            object_id=payment.pk,
            invoice=invoice,
            group=send.group,
            position=last.position + 1,
            requested_by=requested_by,
        )
        if last.status == OutboxStatus.SUCCEEDED:
            ready.append(item.pk)  # else the item before hands it on
    outbox_dispatch(ready)


def invoice_send(*, invoice: Invoice, by=None) -> list[OutboxItem]:
    """`POST /invoices/{id}/send/`: push an open or late invoice (idempotent)."""
    with transaction.atomic():
        current = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if current.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            raise NotSendable(
                f"Only an open or late invoice can be sent; this one is {current.status}."
            )
        items = invoice_enqueue(invoice=current, by=by)
        if not items:
            raise NotSendable("There is no active accounting connection to send it to.")
    return items


# --- pausing, resuming, retrying -------------------------------------------------------


def outbox_pause(*, connection: Connection, reason: str = "") -> int:
    """Pause every open item of `connection` (it needs a person); returns how many."""
    with transaction.atomic():
        items = OutboxItem.objects.filter(
            connection=connection, status__in=(OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS)
        )
        invoice_ids = set(items.exclude(invoice=None).values_list("invoice_id", flat=True))
        count = items.update(
            status=OutboxStatus.PAUSED, lease_until=None, updated_at=timezone.now()
        )
        detail = "The accounting connection needs attention" + (f": {reason}" if reason else ".")
        for invoice_id in invoice_ids:
            accounting_state_set(invoice_id, status=AccountingStatus.PAUSED, last_error=detail)
    return count


def outbox_resume(*, connection: Connection) -> int:
    """Un-pause `connection`'s items (it is active again) and dispatch the ready ones."""
    with transaction.atomic():
        now = timezone.now()
        paused = OutboxItem.objects.filter(connection=connection, status=OutboxStatus.PAUSED)
        invoice_ids = set(paused.exclude(invoice=None).values_list("invoice_id", flat=True))
        count = paused.update(status=OutboxStatus.PENDING, next_attempt_at=None, updated_at=now)
        for invoice_id in invoice_ids:
            accounting_state_set(invoice_id, status=AccountingStatus.PENDING, last_error="")
        outbox_dispatch(_ready(now).filter(connection=connection).values_list("pk", flat=True))
    return count


def outbox_retry_now(*, items) -> int:
    """Admin's "retry now": failed, paused or waiting items become due at once (paused
    ones only when their connection is active). Returns how many were queued."""
    with transaction.atomic():
        now = timezone.now()
        retryable = (OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.PAUSED)
        stopped = (ConnectionStatus.NEEDS_ATTENTION, ConnectionStatus.DISABLED)
        ids = list(
            OutboxItem.objects.filter(pk__in=[i.pk for i in items])
            .filter(status__in=retryable)
            .exclude(status=OutboxStatus.PAUSED, connection__status__in=stopped)
            .values_list("pk", flat=True)
        )
        OutboxItem.objects.filter(pk__in=ids).update(
            status=OutboxStatus.PENDING, next_attempt_at=None, completed_at=None, updated_at=now
        )
        outbox_dispatch(ids)
    return len(ids)


# --- the sweep -------------------------------------------------------------------------


def blocked_q() -> Exists:
    """An earlier item of the same group that has not succeeded."""
    earlier = OutboxItem.objects.filter(group=OuterRef("group"), position__lt=OuterRef("position"))
    return Exists(earlier.exclude(status=OutboxStatus.SUCCEEDED))


def _ready(now: datetime):
    due = Q(status=OutboxStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=OutboxStatus.IN_PROGRESS, lease_until__lt=now)
    return (
        OutboxItem.objects.filter(due | abandoned, connection__status=ConnectionStatus.ACTIVE)
        .exclude(blocked_q())
        .order_by("created_at", "position")
    )


def outbox_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list:
    """Dispatch what is due and was missed: pending items whose time has come (after a
    short grace, so fresh items are left to their own dispatch) and in-progress items
    whose lease ran out. Returns the ids dispatched."""
    now = now or timezone.now()
    fresh = Q(
        status=OutboxStatus.PENDING,
        updated_at__gt=now - SWEEP_GRACE,
        next_attempt_at__isnull=True,
    )
    ids = list(_ready(now).exclude(fresh).values_list("pk", flat=True)[:limit])
    outbox_dispatch(ids)
    if ids:
        logger.info("push: sweep dispatched %d item(s)", len(ids))
    return ids
