"""Push: the outbox to the accounting system, exactly once.

Writing: `invoice_enqueue` (the receiver of `records.events.invoice_finalized`, and the
send endpoint) writes one group per active connection, in the caller's transaction:
`ensure_contact` (0), `create_invoice` (1), `send_invoice` (2); the first item is handed
to a worker after commit, and each item hands on the next when it succeeded.

Running one item (`outbox_item_run`, from the `integrations.push_item` task):

1. *Claim* it in a short transaction (row lock): pending and due, or in progress with
   an expired lease (its worker died: the outcome of that attempt is unknown); every
   earlier item of its group succeeded; its connection is active (else it is paused).
   Claiming sets the lease and counts the attempt.
2. *Push* it, outside any transaction. When an earlier attempt's outcome is unknown
   (`outcome_unknown`: timeout, dropped connection, 5xx, dead worker), the object is
   first looked up by our own key (the contact's customer number, the invoice's
   number as `reference`), and an invoice is sent only while it is a draft there.
3. *Record* the outcome in one transaction: on success the `ExternalLink` and the
   item's `succeeded` together, so a link exists exactly when the item says so.
   - `RetryableError`: back to pending with `next_attempt_at` (backoff with jitter, or
     the provider's `Retry-After` / the shared budget's pause, whichever is later);
     the task retries with that countdown (Celery `retry`, never `sleep`), and the
     sweep honours the same time. After `INTEGRATIONS_PUSH_MAX_ATTEMPTS`: failed.
   - `RecordError` (400/404/422): failed with the provider's message; the person who
     asked is emailed; other groups carry on (later items of this group wait).
   - `NeedsAttentionError` (401/402/403, credentials): the connection is marked and an
     issue recorded (`connection_report_issue`), its open items paused, Administrators
     emailed once (when it goes from active to needs attention). Reactivating the
     connection resumes them (`outbox_resume`).

A payment registered on a pushed invoice (`on_payment_registered`) becomes a
`register_payment` item at the end of that invoice's group, so it goes out once the
invoice is sent there.

The sweep (`outbox_sweep`, every minute) dispatches what is due and was missed: pending
items whose time has come and in-progress items whose lease ran out.

The invoice's accounting summary (`records.services.invoice_set_accounting_state`) is
written with each outcome of the invoice's items.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations import clients
from integrations.models import (
    Connection,
    ConnectionStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    RemoteKind,
)
from integrations.models.sync import OPEN_OUTBOX_STATUSES
from integrations.providers.base import (
    AccountingProvider,
    ContactData,
    InvoiceData,
    InvoiceLine,
    NeedsAttentionError,
    NetworkError,
    ProviderError,
    ProviderTimeout,
    RecordError,
    RemoteInvoice,
    RetryableError,
    ServerError,
    UnexpectedResponse,
    backoff_seconds,
)
from integrations.sync import links
from project.errors import Conflict
from records import services as records_services
from records.models import AccountingStatus, Contact, Interface, Invoice, InvoiceStatus, Payment

logger = logging.getLogger(__name__)

INVOICE_STEPS = (OutboxKind.ENSURE_CONTACT, OutboxKind.CREATE_INVOICE, OutboxKind.SEND_INVOICE)
# Errors after which a write may have happened at the provider without our knowing.
UNKNOWN_OUTCOME = (NetworkError, ProviderTimeout, ServerError, UnexpectedResponse)
SWEEP_GRACE = timedelta(seconds=30)  # a fresh item is the after-commit dispatch's to run
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class RunResult:
    """What happened to one item; `retry_in` (seconds) when the task should retry."""

    status: str
    retry_in: float | None = None


def _lease() -> timedelta:
    return timedelta(seconds=settings.INTEGRATIONS_PUSH_LEASE_SECONDS)


def dispatch(item_ids) -> None:
    """Queue a push task per item, after the current transaction commits."""
    from integrations.tasks.push import push_item  # tasks import this module

    ids = [str(pk) for pk in item_ids]
    if not ids:
        return
    queue = settings.INTEGRATIONS_PUSH_QUEUE or None

    def send():
        for pk in ids:
            push_item.apply_async((pk,), queue=queue)

    transaction.on_commit(send)


# --- writing the outbox ----------------------------------------------------------------


def _set_accounting(invoice_id, **state) -> None:
    records_services.invoice_set_accounting_state(invoice_id=invoice_id, **state)


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
            _set_accounting(invoice.pk, status=AccountingStatus.PENDING, last_error="")
            dispatch(first_items)
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
            connection_id=send.connection_id, kind=OutboxKind.REGISTER_PAYMENT,
            object_id=payment.pk, invoice=invoice, group=send.group,
            position=last.position + 1, requested_by=requested_by,
        )  # fmt: skip
        if last.status == OutboxStatus.SUCCEEDED:
            ready.append(item.pk)  # else the item before hands it on
    dispatch(ready)


class NotSendable(Conflict):
    """The invoice cannot be pushed (its state, or no active connection)."""


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


# --- running one item ------------------------------------------------------------------


def _blocked_q() -> Exists:
    """An earlier item of the same group that has not succeeded."""
    return Exists(
        OutboxItem.objects.filter(group=OuterRef("group"), position__lt=OuterRef("position"))
        .exclude(status=OutboxStatus.SUCCEEDED)
    )  # fmt: skip


def _claim(item_id, now: datetime) -> OutboxItem | None:
    with transaction.atomic():
        item = (
            OutboxItem.objects.select_for_update(of=("self",))
            .select_related("connection")
            .filter(pk=item_id)
            .first()
        )
        if item is None:
            return None
        if item.status == OutboxStatus.IN_PROGRESS:
            if item.lease_until and item.lease_until > now:
                return None  # another worker holds it
            item.outcome_unknown = True  # its worker died mid-attempt
        elif item.status != OutboxStatus.PENDING:
            return None
        elif item.next_attempt_at and item.next_attempt_at > now + timedelta(seconds=1):
            return None  # early: the scheduled retry will come
        if OutboxItem.objects.filter(pk=item.pk).filter(_blocked_q()).exists():
            return None  # the earlier item hands this one on when it succeeds
        connection = Connection.objects.select_for_update().get(pk=item.connection_id)
        if connection.status != ConnectionStatus.ACTIVE:
            item.status = OutboxStatus.PAUSED
            item.lease_until = None
            item.save(update_fields=["status", "lease_until", "outcome_unknown", "updated_at"])
            if item.invoice_id:
                _set_accounting(
                    item.invoice_id, status=AccountingStatus.PAUSED,
                    last_error="The accounting connection needs attention.",
                )  # fmt: skip
            return None
        item.status = OutboxStatus.IN_PROGRESS
        item.attempts += 1
        item.lease_until = now + _lease()
        item.save(update_fields=["status", "attempts", "lease_until", "outcome_unknown",
                                 "updated_at"])  # fmt: skip
        item.connection = connection
        return item


def outbox_item_run(*, item_id) -> RunResult | None:
    """Claim, push and record one item (None when there was nothing to do)."""
    now = timezone.now()
    item = _claim(item_id, now)
    if item is None:
        return None
    try:
        with clients.client_for(
            item.connection, read_timeout=settings.INTEGRATIONS_PUSH_READ_TIMEOUT
        ) as client:
            outcome = PUSHERS[item.kind](client, item)
    except RetryableError as error:
        return _retry_later(item, error)
    except NeedsAttentionError as error:
        return _needs_attention(item, error)
    except RecordError as error:
        return _failed(item, _record_message(error))
    except ProviderError as error:  # no other family exists; treat as transient
        return _retry_later(item, RetryableError(str(error)))
    except Exception as error:  # a bug or an unreadable answer: keep it, retry later
        logger.exception("push: item %s (%s) crashed", item.pk, item.kind)
        return _retry_later(item, UnexpectedResponse(f"{type(error).__name__}: {error}"))
    return _succeeded(item, outcome)


@dataclass(frozen=True)
class Outcome:
    """What a pusher learned: the link to write and the invoice state it leaves."""

    link_kind: str | None = None
    local_id: object = None
    remote_id: str | None = None
    remote_version: int | None = None
    local_version: int | None = None
    invoice_state: dict | None = None


def _contact_data(contact: Contact) -> ContactData:
    return ContactData(
        key=contact.customer_number, company_name=contact.company_name,
        firstname=contact.first_name, lastname=contact.last_name, email=contact.email,
        address1=contact.address_line1, zipcode=contact.postal_code, city=contact.city,
        country=contact.country or "NL", tax_number=contact.tax_number,
    )  # fmt: skip


def _push_contact(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Create or update the contact, keyed by our customer number. Nothing is sent when
    the link is as recent as our contact."""
    contact = Contact.objects.get(pk=item.object_id)
    link = links.link_get(connection=item.connection, kind=RemoteKind.CONTACT, local_id=contact.pk)
    if link is not None and link.local_version == contact.version:
        return Outcome()
    # `upsert_contact` looks the key up before it creates: exactly once by construction.
    remote = client.upsert_contact(
        _contact_data(contact), remote_id=link.remote_id if link is not None else None
    )
    return Outcome(link_kind=RemoteKind.CONTACT, local_id=contact.pk, remote_id=remote.id,
                   remote_version=remote.version, local_version=contact.version)  # fmt: skip


def _tax_rate_ids(client: AccountingProvider, item: OutboxItem, rates) -> dict:
    """Our tax rates -> the provider's (linked once, matched by percentage)."""
    found = {}
    missing = []
    for rate in rates:
        link = links.link_get(connection=item.connection, kind=RemoteKind.TAX_RATE,
                              local_id=rate.pk)  # fmt: skip
        if link is not None:
            found[rate.pk] = link.remote_id
        else:
            missing.append(rate)
    if missing:
        remote = {r.percentage.normalize(): r.id for r in client.list_tax_rates()}
        for rate in missing:
            remote_id = remote.get(rate.percentage.normalize())
            if remote_id is None:
                raise RecordError(f"No {rate.percentage.normalize():f} % tax rate in the "
                                  "accounting system")  # fmt: skip
            found[rate.pk] = remote_id
            try:
                with transaction.atomic():
                    links.link_set(connection=item.connection, kind=RemoteKind.TAX_RATE,
                                   local_id=rate.pk, remote_id=remote_id,
                                   remote_version=None)  # fmt: skip
            except IntegrityError:
                pass  # another of our rates has that percentage: match it each time
    return found


def _invoice_state(remote: RemoteInvoice, status: str) -> dict:
    return {"status": status, "remote_id": remote.id, "remote_number": remote.number or "",
            "last_error": "", "synced_at": timezone.now()}  # fmt: skip


def _push_create_invoice(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Create the invoice as a draft there; after an unknown outcome, find it by our
    reference first and link it instead."""
    invoice = Invoice.objects.select_related("contact").get(pk=item.object_id)
    link = links.link_get(connection=item.connection, kind=RemoteKind.INVOICE, local_id=invoice.pk)
    if link is not None:
        return Outcome()
    remote = client.find_invoice(invoice.number) if item.outcome_unknown else None
    if remote is None:
        contact_link = links.link_get(connection=item.connection, kind=RemoteKind.CONTACT,
                                      local_id=invoice.contact_id)  # fmt: skip
        if contact_link is None:
            raise RecordError("The invoice's contact is not in the accounting system")
        lines = list(invoice.lines.select_related("tax_rate").order_by("position"))
        rates = _tax_rate_ids(client, item, {line.tax_rate for line in lines})
        remote = client.create_invoice(InvoiceData(
            contact_id=contact_link.remote_id, reference=invoice.number,
            invoice_date=invoice.issue_date, due_days=(invoice.due_date - invoice.issue_date).days,
            lines=tuple(InvoiceLine(description=line.description, quantity=line.quantity,
                                    unit_price=line.unit_price, tax_rate_id=rates[line.tax_rate_id])
                        for line in lines),
        ))  # fmt: skip
    status = AccountingStatus.CREATED if remote.state == "draft" else AccountingStatus.SENT
    return Outcome(link_kind=RemoteKind.INVOICE, local_id=invoice.pk, remote_id=remote.id,
                   remote_version=remote.version, local_version=invoice.version,
                   invoice_state=_invoice_state(remote, status))  # fmt: skip


def _push_send_invoice(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Send the invoice, only while it is a draft there (checked first when an earlier
    send's outcome is unknown, and after a refusal)."""
    invoice = Invoice.objects.get(pk=item.object_id)
    link = links.link_get(connection=item.connection, kind=RemoteKind.INVOICE, local_id=invoice.pk)
    if link is None:
        raise RecordError("The invoice is not in the accounting system")
    remote = None
    if item.outcome_unknown:
        found = client.fetch_invoices([link.remote_id])
        if not found:
            raise RecordError("The invoice was deleted in the accounting system")
        remote = found[0]
    if remote is None or remote.state == "draft":
        try:
            remote = client.send_invoice(link.remote_id)
        except RecordError:
            found = client.fetch_invoices([link.remote_id])
            if not found or found[0].state == "draft":
                raise
            remote = found[0]  # sent meanwhile (by a person there)
    return Outcome(link_kind=RemoteKind.INVOICE, local_id=invoice.pk, remote_id=remote.id,
                   remote_version=remote.version, local_version=invoice.version,
                   invoice_state=_invoice_state(remote, AccountingStatus.SENT))  # fmt: skip


def _push_payment(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Register the payment on the sent invoice; after an unknown outcome, first look
    for a payment of that amount and date there that is not linked to another of ours."""
    payment = Payment.objects.get(pk=item.object_id)
    if links.link_get(connection=item.connection, kind=RemoteKind.PAYMENT, local_id=payment.pk):
        return Outcome()
    invoice_link = links.link_get(connection=item.connection, kind=RemoteKind.INVOICE,
                                  local_id=payment.invoice_id)  # fmt: skip
    if invoice_link is None:
        raise RecordError("The invoice is not in the accounting system")
    remote = None
    if item.outcome_unknown:
        known = links.links_by_remote_id(connection=item.connection, kind=RemoteKind.PAYMENT)
        remote = next((p for p in client.list_payments(invoice_link.remote_id)
                       if p.id not in known and p.amount == payment.amount
                       and p.payment_date == payment.date), None)  # fmt: skip
    if remote is None:
        remote = client.register_payment(invoice_link.remote_id, amount=payment.amount,
                                         payment_date=payment.date)  # fmt: skip
    return Outcome(link_kind=RemoteKind.PAYMENT, local_id=payment.pk, remote_id=remote.id)


PUSHERS = {
    OutboxKind.ENSURE_CONTACT: _push_contact,
    OutboxKind.CREATE_INVOICE: _push_create_invoice,
    OutboxKind.SEND_INVOICE: _push_send_invoice,
    OutboxKind.REGISTER_PAYMENT: _push_payment,
}


# --- recording outcomes ----------------------------------------------------------------


def _locked_item(item: OutboxItem) -> OutboxItem:
    return OutboxItem.objects.select_for_update().get(pk=item.pk)


def _succeeded(item: OutboxItem, outcome: Outcome) -> RunResult:
    now = timezone.now()
    with transaction.atomic():
        current = _locked_item(item)
        if outcome.link_kind is not None:
            links.link_set(connection=item.connection, kind=outcome.link_kind,
                           local_id=outcome.local_id, remote_id=outcome.remote_id,
                           remote_version=outcome.remote_version,
                           local_version=outcome.local_version)  # fmt: skip
        # Even if the item was paused meanwhile: the write happened.
        current.status = OutboxStatus.SUCCEEDED
        current.completed_at = now
        current.lease_until = None
        current.next_attempt_at = None
        current.outcome_unknown = False
        current.last_error = ""
        current.save(update_fields=["status", "completed_at", "lease_until", "next_attempt_at",
                                    "outcome_unknown", "last_error", "updated_at"])  # fmt: skip
        Connection.objects.filter(pk=item.connection_id).update(last_pushed_at=now)
        if outcome.invoice_state and item.invoice_id:
            _set_accounting(item.invoice_id, **outcome.invoice_state)
        following = (
            OutboxItem.objects.filter(group=item.group, position__gt=item.position,
                                      status=OutboxStatus.PENDING)
            .order_by("position").values_list("pk", flat=True).first()
        )  # fmt: skip
        if following is not None:
            dispatch([following])
    logger.info("push: item %s (%s) succeeded", item.pk, item.kind)
    return RunResult(status=OutboxStatus.SUCCEEDED)


def _retry_later(item: OutboxItem, error: RetryableError) -> RunResult:
    now = timezone.now()
    delay = backoff_seconds(max(0, item.attempts - 1))
    if error.retry_at is not None:
        delay = max(delay, error.retry_at - now.timestamp())
    delay = max(delay, 0.1)
    if item.attempts >= settings.INTEGRATIONS_PUSH_MAX_ATTEMPTS:
        return _failed(item, f"Gave up after {item.attempts} attempts: {error}")
    with transaction.atomic():
        current = _locked_item(item)
        if current.status != OutboxStatus.IN_PROGRESS or current.attempts != item.attempts:
            return RunResult(status=current.status)  # taken over (paused, or another lease)
        current.status = OutboxStatus.PENDING
        current.lease_until = None
        current.next_attempt_at = now + timedelta(seconds=delay)
        current.outcome_unknown = current.outcome_unknown or isinstance(error, UNKNOWN_OUTCOME)
        current.last_error = str(error)
        current.save(update_fields=["status", "lease_until", "next_attempt_at",
                                    "outcome_unknown", "last_error", "updated_at"])  # fmt: skip
    logger.info("push: item %s (%s) retries in %.1fs: %s", item.pk, item.kind, delay, error)
    return RunResult(status=OutboxStatus.PENDING, retry_in=delay)


def _record_message(error: RecordError) -> str:
    message = error.message
    if error.field_errors:
        fields = "; ".join(f"{name} {', '.join(msgs)}" for name, msgs in error.field_errors.items())
        if fields not in message:
            message = f"{message}: {fields}"
    return message


def _failed(item: OutboxItem, message: str) -> RunResult:
    with transaction.atomic():
        current = _locked_item(item)
        current.status = OutboxStatus.FAILED
        current.lease_until = None
        current.next_attempt_at = None
        current.last_error = message
        current.completed_at = timezone.now()
        current.save(update_fields=["status", "lease_until", "next_attempt_at", "last_error",
                                    "completed_at", "updated_at"])  # fmt: skip
        if item.invoice_id:
            _set_accounting(item.invoice_id, status=AccountingStatus.FAILED, last_error=message)
        _notify_failed(current)
    logger.warning("push: item %s (%s) failed: %s", item.pk, item.kind, message)
    return RunResult(status=OutboxStatus.FAILED)


def _notify_failed(item: OutboxItem) -> None:
    from integrations.tasks.push import send_push_failed_email

    item_id = str(item.pk)
    transaction.on_commit(lambda: send_push_failed_email.delay(item_id))


def _needs_attention(item: OutboxItem, error: NeedsAttentionError) -> RunResult:
    from integrations.services import connection_report_issue, issue_kind_for

    message = str(error)
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=item.connection_id)
        was_active = connection.status == ConnectionStatus.ACTIVE
        issue = connection_report_issue(
            connection=connection, kind=issue_kind_for(error), message=message
        )
        paused = outbox_pause(connection=connection, reason=message)
        OutboxItem.objects.filter(pk=item.pk).update(last_error=message)
        if was_active:
            from integrations.tasks.push import send_connection_attention_email

            ids = (str(connection.pk), str(issue.pk))
            transaction.on_commit(lambda: send_connection_attention_email.delay(*ids))
    logger.warning("push: connection %s needs attention (%s); %d item(s) paused",
                   connection.pk, type(error).__name__, paused)  # fmt: skip
    return RunResult(status=OutboxStatus.PAUSED)


def outbox_pause(*, connection: Connection, reason: str = "") -> int:
    """Pause every open item of `connection` (it needs a person); returns how many."""
    with transaction.atomic():
        items = OutboxItem.objects.filter(
            connection=connection, status__in=(OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS)
        )
        invoice_ids = set(items.exclude(invoice=None).values_list("invoice_id", flat=True))
        count = items.update(status=OutboxStatus.PAUSED, lease_until=None,
                             updated_at=timezone.now())  # fmt: skip
        detail = "The accounting connection needs attention" + (f": {reason}" if reason else ".")
        for invoice_id in invoice_ids:
            _set_accounting(invoice_id, status=AccountingStatus.PAUSED, last_error=detail)
    return count


def outbox_resume(*, connection: Connection) -> int:
    """Un-pause `connection`'s items (it is active again) and dispatch the ready ones."""
    with transaction.atomic():
        now = timezone.now()
        paused = OutboxItem.objects.filter(connection=connection, status=OutboxStatus.PAUSED)
        invoice_ids = set(paused.exclude(invoice=None).values_list("invoice_id", flat=True))
        count = paused.update(status=OutboxStatus.PENDING, next_attempt_at=None, updated_at=now)
        for invoice_id in invoice_ids:
            _set_accounting(invoice_id, status=AccountingStatus.PENDING, last_error="")
        dispatch(_ready(now).filter(connection=connection).values_list("pk", flat=True))
    return count


def outbox_retry_now(*, items) -> int:
    """Admin's "retry now": failed, paused or waiting items become due at once (paused
    ones only when their connection is active). Returns how many were queued."""
    with transaction.atomic():
        now = timezone.now()
        ids = list(
            OutboxItem.objects.filter(pk__in=[i.pk for i in items])
            .filter(status__in=(OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.PAUSED))
            .exclude(status=OutboxStatus.PAUSED, connection__status__in=(
                ConnectionStatus.NEEDS_ATTENTION, ConnectionStatus.DISABLED))
            .values_list("pk", flat=True)
        )  # fmt: skip
        OutboxItem.objects.filter(pk__in=ids).update(
            status=OutboxStatus.PENDING, next_attempt_at=None, completed_at=None, updated_at=now
        )
        dispatch(ids)
    return len(ids)


# --- the sweep -------------------------------------------------------------------------


def _ready(now: datetime):
    due = Q(status=OutboxStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=OutboxStatus.IN_PROGRESS, lease_until__lt=now)
    return (
        OutboxItem.objects.filter(due | abandoned, connection__status=ConnectionStatus.ACTIVE)
        .exclude(_blocked_q())
        .order_by("created_at", "position")
    )


def outbox_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list:
    """Dispatch what is due and was missed: pending items whose time has come (after a
    short grace, so fresh items are left to their own dispatch) and in-progress items
    whose lease ran out. Returns the ids dispatched."""
    now = now or timezone.now()
    fresh = Q(status=OutboxStatus.PENDING, updated_at__gt=now - SWEEP_GRACE,
              next_attempt_at__isnull=True)  # fmt: skip
    ids = list(_ready(now).exclude(fresh).values_list("pk", flat=True)[:limit])
    dispatch(ids)
    if ids:
        logger.info("push: sweep dispatched %d item(s)", len(ids))
    return ids


def open_items(*, invoice: Invoice):
    return OutboxItem.objects.filter(invoice=invoice, status__in=OPEN_OUTBOX_STATUSES)
