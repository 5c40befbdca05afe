"""The push runner: one outbox item to the accounting system, exactly once.

`outbox_item_run` (from the `integrations.push_item` task) claims the item
(`services.outbox_items`), pushes it outside any transaction, and records the outcome
through the same services. When an earlier attempt's outcome is unknown
(`outcome_unknown`: timeout, dropped connection, 5xx, dead worker), the object is first
looked up by our own key (the contact's customer number, the invoice's number as
`reference`), and an invoice is sent only while it is a draft there. The provider error
family decides the outcome: `RetryableError` waits for a retry, `RecordError` fails the
item, `NeedsAttentionError` pauses the connection.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import clients
from integrations.models import OutboxItem, OutboxKind, RemoteKind
from integrations.providers.base import (
    AccountingProvider,
    ContactData,
    InvoiceData,
    InvoiceLine,
    InvoiceState,
    NeedsAttentionError,
    ProviderError,
    RecordError,
    RemoteInvoice,
    RetryableError,
    UnexpectedResponse,
)
from integrations.services.links import link_get, link_set, links_by_remote_id
from integrations.services.outbox_items import (
    Outcome,
    RunResult,
    outbox_item_claim,
    outbox_item_fail,
    outbox_item_needs_attention,
    outbox_item_retry_later,
    outbox_item_succeed,
)
from records.models import AccountingStatus, Contact, Invoice, Payment

logger = logging.getLogger(__name__)


def outbox_item_run(*, item_id) -> RunResult | None:
    """Claim, push and record one item (None when there was nothing to do)."""
    item = outbox_item_claim(item_id=item_id, now=timezone.now())
    if item is None:
        return None
    try:
        with clients.client_for(
            item.connection, read_timeout=settings.INTEGRATIONS_PUSH_READ_TIMEOUT
        ) as client:
            outcome = PUSHERS[item.kind](client, item)
    except RetryableError as error:
        return outbox_item_retry_later(item=item, error=error)
    except NeedsAttentionError as error:
        return outbox_item_needs_attention(item=item, error=error)
    except RecordError as error:
        return outbox_item_fail(item=item, message=_record_message(error))
    except ProviderError as error:  # no other family exists; treat as transient
        return outbox_item_retry_later(item=item, error=RetryableError(str(error)))
    except Exception as error:  # a bug or an unreadable answer: keep it, retry later
        logger.exception("push: item %s (%s) crashed", item.pk, item.kind)
        unreadable = UnexpectedResponse(f"{type(error).__name__}: {error}")
        return outbox_item_retry_later(item=item, error=unreadable)
    return outbox_item_succeed(item=item, outcome=outcome)


def _record_message(error: RecordError) -> str:
    message = error.message
    if error.field_errors:
        fields = "; ".join(f"{name} {', '.join(msgs)}" for name, msgs in error.field_errors.items())
        if fields not in message:
            message = f"{message}: {fields}"
    return message


def _contact_data(contact: Contact) -> ContactData:
    return ContactData(
        key=contact.customer_number,
        company_name=contact.company_name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        address_line1=contact.address_line1,
        postal_code=contact.postal_code,
        city=contact.city,
        country=contact.country or "NL",
        tax_number=contact.tax_number,
    )


def _push_contact(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Create or update the contact, keyed by our customer number. Nothing is sent when
    the link is as recent as our contact."""
    contact = Contact.objects.get(pk=item.object_id)
    link = link_get(connection=item.connection, kind=RemoteKind.CONTACT, local_id=contact.pk)
    if link is not None and link.local_version == contact.version:
        return Outcome()
    # `upsert_contact` looks the key up before it creates: exactly once by construction.
    remote = client.upsert_contact(
        _contact_data(contact), remote_id=link.remote_id if link is not None else None
    )
    return Outcome(
        link_kind=RemoteKind.CONTACT,
        local_id=contact.pk,
        remote_id=remote.id,
        remote_version=remote.version,
        local_version=contact.version,
    )


def _tax_rate_ids(client: AccountingProvider, item: OutboxItem, rates) -> dict:
    """Our tax rates -> the provider's (linked once, matched by percentage)."""
    found = {}
    missing = []
    for rate in rates:
        link = link_get(connection=item.connection, kind=RemoteKind.TAX_RATE, local_id=rate.pk)
        if link is not None:
            found[rate.pk] = link.remote_id
        else:
            missing.append(rate)
    if missing:
        remote = {r.percentage.normalize(): r.id for r in client.list_tax_rates()}
        for rate in missing:
            remote_id = remote.get(rate.percentage.normalize())
            if remote_id is None:
                percentage = rate.percentage.normalize()
                raise RecordError(f"No {percentage:f} % tax rate in the accounting system")
            found[rate.pk] = remote_id
            try:
                with transaction.atomic():
                    link_set(
                        connection=item.connection,
                        kind=RemoteKind.TAX_RATE,
                        local_id=rate.pk,
                        remote_id=remote_id,
                        remote_version=None,
                    )
            except IntegrityError:
                pass  # another of our rates has that percentage: match it each time
    return found


def _invoice_outcome(invoice: Invoice, remote: RemoteInvoice, status: str) -> Outcome:
    state = {
        "status": status,
        "remote_id": remote.id,
        "remote_number": remote.number or "",
        "last_error": "",
        "synced_at": timezone.now(),
    }
    return Outcome(
        link_kind=RemoteKind.INVOICE,
        local_id=invoice.pk,
        remote_id=remote.id,
        remote_version=remote.version,
        local_version=invoice.version,
        invoice_state=state,
    )


def _push_create_invoice(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Create the invoice as a draft there; after an unknown outcome, find it by our
    reference first and link it instead."""
    invoice = Invoice.objects.select_related("contact").get(pk=item.object_id)
    link = link_get(connection=item.connection, kind=RemoteKind.INVOICE, local_id=invoice.pk)
    if link is not None:
        return Outcome()
    remote = client.find_invoice(invoice.number) if item.outcome_unknown else None
    if remote is None:
        contact_link = link_get(
            connection=item.connection, kind=RemoteKind.CONTACT, local_id=invoice.contact_id
        )
        if contact_link is None:
            raise RecordError("The invoice's contact is not in the accounting system")
        lines = list(invoice.lines.select_related("tax_rate").order_by("position"))
        rates = _tax_rate_ids(client, item, {line.tax_rate for line in lines})
        remote = client.create_invoice(
            InvoiceData(
                contact_id=contact_link.remote_id,
                reference=invoice.number,
                invoice_date=invoice.issue_date,
                due_days=(invoice.due_date - invoice.issue_date).days,
                lines=tuple(
                    InvoiceLine(
                        description=line.description,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        tax_rate_id=rates[line.tax_rate_id],
                    )
                    for line in lines
                ),
            )
        )
    if remote.state == InvoiceState.DRAFT:
        return _invoice_outcome(invoice, remote, AccountingStatus.CREATED)
    return _invoice_outcome(invoice, remote, AccountingStatus.SENT)


def _push_send_invoice(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Send the invoice, only while it is a draft there (checked first when an earlier
    send's outcome is unknown, and after a refusal)."""
    invoice = Invoice.objects.get(pk=item.object_id)
    link = link_get(connection=item.connection, kind=RemoteKind.INVOICE, local_id=invoice.pk)
    if link is None:
        raise RecordError("The invoice is not in the accounting system")
    remote = None
    if item.outcome_unknown:
        found = client.fetch_invoices([link.remote_id])
        if not found:
            raise RecordError("The invoice was deleted in the accounting system")
        remote = found[0]
    if remote is None or remote.state == InvoiceState.DRAFT:
        try:
            remote = client.send_invoice(link.remote_id)
        except RecordError:
            found = client.fetch_invoices([link.remote_id])
            if not found or found[0].state == InvoiceState.DRAFT:
                raise
            remote = found[0]  # sent meanwhile (by a person there)
    return _invoice_outcome(invoice, remote, AccountingStatus.SENT)


def _push_payment(client: AccountingProvider, item: OutboxItem) -> Outcome:
    """Register the payment on the sent invoice; after an unknown outcome, first look
    for a payment of that amount and date there that is not linked to another of ours."""
    payment = Payment.objects.get(pk=item.object_id)
    if link_get(connection=item.connection, kind=RemoteKind.PAYMENT, local_id=payment.pk):
        return Outcome()
    invoice_link = link_get(
        connection=item.connection, kind=RemoteKind.INVOICE, local_id=payment.invoice_id
    )
    if invoice_link is None:
        raise RecordError("The invoice is not in the accounting system")
    remote = None
    if item.outcome_unknown:
        known = links_by_remote_id(connection=item.connection, kind=RemoteKind.PAYMENT)
        remote = next(
            (
                p
                for p in client.list_payments(invoice_link.remote_id)
                if p.id not in known and p.amount == payment.amount and p.date == payment.date
            ),
            None,
        )
    if remote is None:
        remote = client.register_payment(
            invoice_link.remote_id, amount=payment.amount, payment_date=payment.date
        )
    return Outcome(link_kind=RemoteKind.PAYMENT, local_id=payment.pk, remote_id=remote.id)


PUSHERS = {
    OutboxKind.ENSURE_CONTACT: _push_contact,
    OutboxKind.CREATE_INVOICE: _push_create_invoice,
    OutboxKind.SEND_INVOICE: _push_send_invoice,
    OutboxKind.REGISTER_PAYMENT: _push_payment,
}
