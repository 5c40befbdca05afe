"""Thin Celery tasks of records: load by id, call one function (queued after commit)."""

from celery import shared_task

from project.tasks import EMAIL_RETRYABLE, email_task

from .emails import invoice_paid_email_send
from .models import Invoice, InvoiceStatus


@email_task("records.send_invoice_paid_email")
def send_invoice_paid_email(invoice_id: str) -> None:
    """Tell the invoice's creator it has been paid (nothing if it is not, or no creator)."""
    _invoice_paid_email(invoice_id)


def _invoice_paid_email(invoice_id: str) -> None:
    invoice = (
        Invoice.objects.select_related("contact", "created_by")
        .filter(pk=invoice_id, status=InvoiceStatus.PAID)
        .first()
    )
    if invoice is not None:
        invoice_paid_email_send(invoice=invoice)


@shared_task(name="records.send_invoice_paid_emails", ignore_result=True)
def send_invoice_paid_emails(invoice_ids: list[str]) -> None:
    """`send_invoice_paid_email` for many invoices (a sync's batch), one message on the
    queue instead of one each. An email that fails goes on alone as its own task, with
    that task's retries; the others are not held up (nor sent twice)."""
    for invoice_id in invoice_ids:
        try:
            _invoice_paid_email(invoice_id)
        except EMAIL_RETRYABLE:
            send_invoice_paid_email.delay(invoice_id)
