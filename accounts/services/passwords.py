"""Passwords (change, reset by email) and email addresses (verification links).

The emails are sent by Celery tasks queued when the transaction commits, never before
(and never with a token in the queue: the worker makes the link). A request that exists
only to send one (a reset, a new verification link) checks the broker first: down, it
is a 503 before anything is written (`project.tasks.broker_check`).
"""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts import tasks, tokens
from accounts.models import SessionEndReason, User
from project.tasks import broker_check, send_on_commit

from .sessions import sessions_revoke_all


def password_reset_email_queue(*, user: User, invitation: bool = False) -> None:
    """Email `user` a link to choose a password (an invitation: a new account), after
    commit."""
    send_on_commit(tasks.send_password_reset_email, (str(user.pk),), {"invitation": invitation})


def verification_email_queue(*, user: User) -> None:
    """Email `user` a link that verifies their current address, after commit."""
    send_on_commit(tasks.send_verification_email, (str(user.pk),))


def validate_new_password(password: str, user: User, field: str) -> None:
    """Django's password validators, their messages under `field`."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@transaction.atomic
def password_change(
    *, user: User, old_password: str, new_password: str, current_session_id=None
) -> None:
    """Change the password; every other session ends."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The password is incorrect."]})
    validate_new_password(new_password, user, "new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    sessions_revoke_all(
        user=user, reason=SessionEndReason.PASSWORD_CHANGE, except_session_id=current_session_id
    )


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active user has this address; silent otherwise."""
    broker_check()
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is not None:
        password_reset_email_queue(user=user)


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        return User.objects.get(pk=pk, is_active=True)
    except (ValueError, TypeError, OverflowError, ValidationError, User.DoesNotExist):
        return None


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from an emailed link; ends all sessions.

    The link proves control of the address, so the email counts as verified too.
    Django's token generator makes the link single-use (it hashes the password).
    """
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["The link is invalid or has expired."]})
    validate_new_password(new_password, user, "new_password")
    user.set_password(new_password)
    user.is_verified = True
    user.save(update_fields=["password", "is_verified", "updated_at"])
    sessions_revoke_all(user=user, reason=SessionEndReason.PASSWORD_RESET)
    return user


# --- Email verification ------------------------------------------------------------


def email_verify(*, token: str) -> User:
    """Mark the address verified if the token is valid and still names the current one."""
    try:
        data = signing.loads(
            token, salt=tokens.EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
        user = User.objects.get(pk=data["u"], is_active=True)
        email = str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValidationError, User.DoesNotExist):
        user, email = None, ""
    if user is None or user.email.lower() != email.lower():
        raise ValidationError({"token": ["The link is invalid or has expired."]})
    if not user.is_verified:
        user.is_verified = True
        user.save(update_fields=["is_verified", "updated_at"])
    return user


def email_verification_resend(*, user: User) -> bool:
    """Send a new verification link unless the address is verified already."""
    if user.is_verified:
        return False
    broker_check()
    verification_email_queue(user=user)
    return True
