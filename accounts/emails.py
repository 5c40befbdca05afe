"""The account emails (password reset, invitation, verification): text and HTML.

Links carry tokens made here, in the worker, so no token ever sits in the queue.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode

from .models import User
from .tokens import email_verification_token


def _send(*, template: str, to: str, context: dict) -> None:
    base = f"accounts/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject,
        render_to_string(f"{base}.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    message.send()


def _link(path: str, **params) -> str:
    return f"{settings.FRONTEND_URL.rstrip('/')}/{path}?{urlencode(params)}"


def password_reset_email_send(*, user: User, invitation: bool = False) -> None:
    """A link to set a new password (or, for an invited user, a first one)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = _link("reset-password", uid=uid, token=token, **({"invite": 1} if invitation else {}))
    context = {
        "user": user,
        "link": link,
        "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
    }
    _send(template="invitation" if invitation else "password_reset", to=user.email, context=context)


def verification_email_send(*, user: User) -> None:
    link = _link("verify-email", token=email_verification_token(user=user))
    context = {
        "user": user,
        "link": link,
        "days": max(1, settings.EMAIL_VERIFICATION_MAX_AGE // 86400),
    }
    _send(template="verify_email", to=user.email, context=context)
