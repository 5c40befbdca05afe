"""Payments registered here: money received for an open (or late) invoice; at zero due
the invoice is paid. `payment_check` and `payment_apply` are the rules, shared with the
sync's bulk registration (`sync_payments`)."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from project.tasks import send_on_commit
from records import events, tasks
from records.models import ChangeAction, Invoice, InvoiceStatus, Payment, PaymentMethod

from .fields import check_date
from .history import actor, json_value, locked, record_change
from .lines import clean_field


def payment_check(invoice: Invoice, amount, date, method, reference) -> tuple:
    """The rules of a payment on `invoice` as it stands: `(amount, errors)`."""
    errors = {}
    if invoice.status != InvoiceStatus.OPEN:
        errors["invoice"] = [
            f"Payments can be registered on open invoices only; this one is {invoice.status}."
        ]
    amount = clean_field(Payment, "amount", amount, errors, "amount")
    if amount is not None and amount <= 0:
        errors["amount"] = ["Ensure this value is greater than 0."]
    elif amount is not None and "invoice" not in errors and amount > invoice.total_due:
        errors["amount"] = [f"The payment exceeds the amount due ({invoice.total_due:f})."]
    if method not in PaymentMethod.values:
        errors["method"] = [f'"{method}" is not a valid choice.']
    if not isinstance(date, dt.date):
        errors["date"] = ["This field is required."]
    check_date(date, "date", errors)
    if len(reference or "") > 200:
        errors["reference"] = ["Ensure this field has no more than 200 characters."]
    return amount, errors


def payment_apply(invoice: Invoice, payment: Payment) -> tuple[dict, bool]:
    """Add a checked payment to the invoice in memory (total paid, paid at zero due, the
    version); returns the history's changes and whether it is paid now."""
    old_paid, old_status = invoice.total_paid, invoice.status
    invoice.total_paid += payment.amount
    recorded = {
        "id": str(payment.pk),
        "amount": json_value(payment.amount),
        "date": json_value(payment.date),
        "method": payment.method,
        "reference": payment.reference,
    }
    changes = {
        "payment": [None, recorded],
        "total_paid": [json_value(old_paid), json_value(invoice.total_paid)],
    }
    paid = invoice.total_due == 0
    if paid:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = timezone.now()
        changes["status"] = [old_status, invoice.status]
    invoice.version += 1
    return changes, paid


@transaction.atomic
def payment_register(
    *,
    invoice: Invoice,
    amount: Decimal,
    date: dt.date,
    method: str,
    reference: str = "",
    by,
    via,
) -> Payment:
    """Record money received for an open (or late) invoice; at zero due it is paid.

    More than the amount due, or a payment on a draft, paid or cancelled invoice, is a
    field error. `events.payment_registered` is sent inside the transaction; when paid,
    the creator is emailed after commit and `events.invoice_paid` is sent too.
    """
    invoice = locked(Invoice, invoice, None)
    amount, errors = payment_check(invoice, amount, date, method, reference)
    if errors:
        raise ValidationError(errors)
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        date=date,
        method=method,
        reference=reference or "",
        created_by=actor(by),
    )
    changes, paid = payment_apply(invoice, payment)
    invoice.save()
    record_change(invoice, ChangeAction.PAYMENT, changes, by=by, via=via)
    events.payment_registered.send(sender=Invoice, invoice=invoice, payment=payment, by=by, via=via)
    if paid:
        events.invoice_paid.send(sender=Invoice, invoice=invoice, payment=payment, by=by, via=via)
        send_on_commit(tasks.send_invoice_paid_email, (str(invoice.pk),))
    return payment
