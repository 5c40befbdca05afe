"""Thin Celery tasks: load the user by id and send one email (queued after commit)."""

import smtplib

from celery import shared_task

RETRYABLE = (OSError, smtplib.SMTPException)


def _active_user(user_id: str):
    from .models import User

    return User.objects.filter(pk=user_id, is_active=True).first()


@shared_task(
    name="accounts.send_password_reset_email",
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_password_reset_email(user_id: str, invitation: bool = False) -> None:
    from .emails import password_reset_email_send

    user = _active_user(user_id)
    if user is not None:
        password_reset_email_send(user=user, invitation=invitation)


@shared_task(
    name="accounts.send_verification_email",
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_verification_email(user_id: str) -> None:
    from .emails import verification_email_send

    user = _active_user(user_id)
    if user is not None and not user.is_verified:
        verification_email_send(user=user)
