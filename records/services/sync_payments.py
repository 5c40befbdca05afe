"""Sync writes of invoice payments and states: what the accounting system says of the
money of a batch of invoices, with the rules of `payment_register` and
`invoice_cancel`, in a few queries per batch.

This is where the pull registers a payment made there, cancels an invoice that is
uncollectible there, and states the rule for an invoice paid there: after its payments
it must be paid here too, or the row fails ("Paid there, but ... is still due here").
"""

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from project.db import bulk
from project.tasks import send_on_commit
from records import events, tasks
from records.models import ChangeAction, Interface, Invoice, InvoiceStatus, Payment, PaymentMethod

from .history import actor, record_changes
from .invoices import cancel_apply, cancel_check
from .payments import payment_apply, payment_check
from .sync import SyncAction

WRITTEN = ["total_paid", "status", "paid_at", "cancelled_at", "version", "updated_at"]


@dataclass
class SyncPayment:
    """One payment as the accounting system has it (registered like `payment_register`)."""

    amount: Decimal
    date: dt.date
    reference: str = ""
    method: str = PaymentMethod.OTHER


@dataclass
class SyncPayments:
    """What the accounting system says of one invoice, applied in this order:
    `payments` are registered; `cancel` (uncollectible there): an open invoice is
    cancelled, as `invoice_cancel` would (one with payments cannot be: the row fails);
    `settle` (paid there): the invoice must be paid after the payments, else the row
    fails. A row that fails writes nothing."""

    invoice: Invoice
    payments: list[SyncPayment]
    settle: bool = False
    cancel: bool = False


@dataclass
class SyncPaymentsOutcome:
    action: str  # UPDATED, UNCHANGED (nothing to write) or FAILED
    invoice: Invoice | None = None
    payments: list[Payment] = field(default_factory=list)  # in the order of the row's
    errors: dict[str, list[str]] = field(default_factory=dict)


def paid_there_errors(invoice: Invoice) -> dict:
    """The rule for an invoice paid in the accounting system: paid here too (no errors),
    or a field error saying what is still due here."""
    if invoice.status == InvoiceStatus.PAID:
        return {}
    return {"status": [f"Paid there, but {invoice.total_due:f} is still due here."]}


def _paid_emails_after_commit(invoice_ids: list[str]) -> None:
    """The invoice-paid email of each invoice after commit, as one task for all of them
    (`send_invoice_paid_emails`): a message each costs more than the batch's writes."""
    send_on_commit(tasks.send_invoice_paid_emails, (invoice_ids,))


def _apply(invoice: Invoice, row: SyncPayments, who) -> tuple:
    """The row applied to `invoice` in memory: `(payments, [(action, changes)], the
    payment that made it paid or None, errors)`."""
    payments, history, paid = [], [], None
    for item in row.payments:
        amount, errors = payment_check(invoice, item.amount, item.date, item.method, item.reference)
        if errors:
            return payments, history, paid, errors
        payment = Payment(
            invoice=invoice,
            amount=amount,
            date=item.date,
            method=item.method,
            reference=item.reference or "",
            created_by=who,
        )
        changes, paid_now = payment_apply(invoice, payment)
        paid = payment if paid_now else paid
        payments.append(payment)
        history.append((ChangeAction.PAYMENT, changes))
    if row.cancel and invoice.status == InvoiceStatus.OPEN:
        refusal = cancel_check(invoice)
        if refusal:
            return payments, history, paid, {"status": [refusal]}
        history.append((ChangeAction.CANCEL, cancel_apply(invoice)))
    errors = paid_there_errors(invoice) if row.settle else {}
    return payments, history, paid, errors


@transaction.atomic
def payments_register_from_sync(
    *, rows: list[SyncPayments], by=None, via=Interface.SYNC
) -> list[SyncPaymentsOutcome]:
    """`payment_register` (and `invoice_cancel`) for many invoices at once (the pull's
    batches); one outcome per row, in order, in a few queries whatever the number of rows.

    The same rules, payment by payment in each row's order: the invoice row locked, each
    payment checked against the invoice as the previous ones left it, totals recomputed,
    paid at zero due, one version and one ChangeRecord per payment (and per cancel), the
    same events inside the transaction (`payment_registered` for each payment,
    `invoice_paid` when paid) and the invoice-paid email after commit. A row with an
    invalid payment, a cancel refused, or that `settle`s without being paid fails alone
    and writes nothing; the others are written. The receivers get the invoice as the
    whole row left it.
    """
    pks = sorted({row.invoice.pk for row in rows})
    locked = Invoice.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    invoices = {invoice.pk: invoice for invoice in locked}
    outcomes, created, touched, history, sends, paid_ids = [], [], [], [], [], []
    now = timezone.now()
    who = actor(by)
    for row in rows:
        current = invoices.get(row.invoice.pk)
        if current is None:
            gone = {"non_field_errors": ["Deleted here meanwhile."]}
            outcomes.append(SyncPaymentsOutcome(SyncAction.FAILED, errors=gone))
            continue
        if not (row.payments or row.settle or row.cancel):
            outcomes.append(SyncPaymentsOutcome(SyncAction.UNCHANGED, current))
            continue
        # On a copy: a failed row leaves the locked invoice as it was (as a rollback would).
        invoice = copy.copy(current)
        payments, changes_of, paid, errors = _apply(invoice, row, who)
        if errors:
            outcomes.append(SyncPaymentsOutcome(SyncAction.FAILED, current, errors=errors))
            continue
        if not changes_of:
            outcomes.append(SyncPaymentsOutcome(SyncAction.UNCHANGED, current))
            continue
        invoice.updated_at = now
        invoices[invoice.pk] = invoice  # a second row of the same invoice sees this one
        created.extend(payments)
        touched.append(invoice)
        history.extend((invoice, action, changes) for action, changes in changes_of)
        sends.append((invoice, payments, paid))
        if paid is not None:
            paid_ids.append(str(invoice.pk))
        outcomes.append(SyncPaymentsOutcome(SyncAction.UPDATED, invoice, payments))
    if not touched:
        return outcomes
    bulk.insert(Payment, created)
    bulk.update(Invoice, list({invoice.pk: invoice for invoice in touched}.values()), WRITTEN)
    record_changes(Invoice, history, by=by, via=via)
    for invoice, payments, paid in sends:
        for payment in payments:
            events.payment_registered.send(
                sender=Invoice, invoice=invoice, payment=payment, by=by, via=via
            )
        if paid is not None:
            events.invoice_paid.send(sender=Invoice, invoice=invoice, payment=paid, by=by, via=via)
    if paid_ids:
        _paid_emails_after_commit(paid_ids)
    return outcomes
