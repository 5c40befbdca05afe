"""The records emails: "your invoice has been paid", text and HTML."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Invoice


def invoice_paid_email_send(*, invoice: Invoice) -> bool:
    """Email the invoice's creator (if still active) that it is paid; False if nobody."""
    user = invoice.created_by
    if user is None or not user.is_active or not user.email:
        return False
    base = "records/email/invoice_paid"
    context = {"user": user, "invoice": invoice, "contact": invoice.contact}
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject, render_to_string(f"{base}.txt", context), settings.DEFAULT_FROM_EMAIL, [user.email]
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    message.send()
    return True
