"""The integrations emails, text and HTML: a push failed for good (to the person who
asked for it), a connection needs attention (to the Administrators)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import role_filter_q

from .models import Connection, ConnectionIssue, OutboxItem, OutboxStatus


def _send(*, template: str, to: list[str], context: dict) -> None:
    base = f"integrations/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject, render_to_string(f"{base}.txt", context), settings.DEFAULT_FROM_EMAIL, to
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    message.send()


def push_failed_email_send(*, item_id) -> bool:
    """Email the person who finalized or sent the invoice that its push failed (the
    invoice's creator when nobody asked); False when there is nobody, or it is no longer
    failed."""
    item = (
        OutboxItem.objects.select_related("connection", "requested_by", "invoice__created_by")
        .filter(pk=item_id, status=OutboxStatus.FAILED)
        .first()
    )
    if item is None:
        return False
    user = item.requested_by or (item.invoice.created_by if item.invoice else None)
    if user is None or not user.is_active or not user.email:
        return False
    context = {
        "user": user,
        "item": item,
        "invoice": item.invoice,
        "connection": item.connection,
        "link": settings.FRONTEND_URL,
    }
    _send(template="push_failed", to=[user.email], context=context)
    return True


def connection_attention_email_send(*, connection_id, issue_id) -> int:
    """Email each active Administrator that the connection needs attention (sent once,
    when it goes from active to needs attention); returns how many were emailed."""
    connection = Connection.objects.filter(pk=connection_id).first()
    issue = ConnectionIssue.objects.filter(pk=issue_id).first()
    if connection is None or issue is None:
        return 0
    emails = sorted(
        set(
            User.objects.filter(role_filter_q(Role.ADMINISTRATOR), is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    context = {"connection": connection, "issue": issue, "link": settings.FRONTEND_URL}
    for email in emails:  # one message each: Administrators do not see each other's address
        _send(template="connection_needs_attention", to=[email], context=context)
    return len(emails)
