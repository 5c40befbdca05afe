"""Thin Celery tasks of records: load by id, call one function (queued after commit)."""

import smtplib

from celery import shared_task

RETRYABLE = (OSError, smtplib.SMTPException)


@shared_task(
    name="records.send_invoice_paid_email",
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_invoice_paid_email(invoice_id: str) -> None:
    """Tell the invoice's creator it has been paid (nothing if it is not, or no creator)."""
    from .emails import invoice_paid_email_send
    from .models import Invoice, InvoiceStatus

    invoice = (
        Invoice.objects.select_related("contact", "created_by")
        .filter(pk=invoice_id, status=InvoiceStatus.PAID)
        .first()
    )
    if invoice is not None:
        invoice_paid_email_send(invoice=invoice)
