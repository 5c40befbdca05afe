"""Thin Celery tasks: load the user by id and send one email (queued after commit)."""

from project.tasks import email_task

from .emails import password_reset_email_send, verification_email_send
from .models import User


def _active_user(user_id: str) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


@email_task("accounts.send_password_reset_email")
def send_password_reset_email(user_id: str, invitation: bool = False) -> None:
    user = _active_user(user_id)
    if user is not None:
        password_reset_email_send(user=user, invitation=invitation)


@email_task("accounts.send_verification_email")
def send_verification_email(user_id: str) -> None:
    user = _active_user(user_id)
    if user is not None and not user.is_verified:
        verification_email_send(user=user)
