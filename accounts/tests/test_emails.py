"""Emails go out after commit through a real Celery worker; their links work."""

import email
import re
import time
from email import policy
from html import escape as html_escape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuthSession, User
from accounts.tests.factories import UserFactory
from project import settings as project_settings
from tests.support.auth import api_client_for, login

pytestmark = pytest.mark.django_db(transaction=True)


def mail_dir() -> Path:
    """Where the worker writes mail: the configured mailer (the test process itself has
    Django's in-memory one, the worker process has the real settings)."""
    mailer = project_settings.MAILERS["default"]
    assert mailer["BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    return Path(mailer["OPTIONS"]["file_path"])


def wait_for_mail(recipient: str, timeout: float = 30) -> email.message.EmailMessage:
    """The message the worker wrote for `recipient` (file backend), once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir().glob("*.log")) if mail_dir().exists() else []:
            for chunk in path.read_bytes().split(b"-" * 79):
                message = email.message_from_bytes(chunk.strip(), policy=policy.default)
                if message["To"] == recipient:
                    return message
        time.sleep(0.1)
    raise AssertionError(f"no email for {recipient} within {timeout}s")


def link_params(message) -> dict[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    match = re.search(r"https?://\S+", text)
    assert match, text
    assert f'<a href="{html_escape(match.group(0))}">' in html
    return {key: values[0] for key, values in parse_qs(urlsplit(match.group(0)).query).items()}


def test_password_reset_email_and_confirm(celery_worker_process):
    user = UserFactory(role="viewer", email=f"reset-{time.time_ns()}@example.com")
    session = login(user).session
    anon = APIClient()

    response = anon.post(
        reverse("auth-password-reset"), {"email": user.email.upper()}, format="json"
    )
    unknown = anon.post(
        reverse("auth-password-reset"), {"email": "nobody@example.com"}, format="json"
    )

    assert response.status_code == unknown.status_code == 202
    assert response.json() == unknown.json()
    message = wait_for_mail(user.email)
    assert message["Subject"] == "Reset your Ledgerbridge password"
    params = link_params(message)
    confirm = anon.post(
        reverse("auth-password-reset-confirm"),
        {"uid": params["uid"], "token": params["token"], "new_password": "brand new passphrase 9"},
        format="json",
    )
    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password("brand new passphrase 9")
    assert AuthSession.objects.get(pk=session.pk).revoked_reason == "password_reset"
    again = anon.post(
        reverse("auth-password-reset-confirm"),
        {"uid": params["uid"], "token": params["token"], "new_password": "another passphrase 10"},
        format="json",
    )
    assert again.status_code == 400  # single use: the password hash changed
    assert again.json()["errors"] == {"token": ["The link is invalid or has expired."]}


def test_new_user_gets_a_verification_link_that_verifies(celery_worker_process):
    admin = api_client_for(role="administrator")
    address = f"verify-{time.time_ns()}@example.com"

    created = admin.post(
        reverse("users-list"),
        {"email": address, "role": "viewer", "password": "a fine long passphrase 1"},
        format="json",
    )

    assert created.status_code == 201
    message = wait_for_mail(address)
    assert message["Subject"] == "Confirm your email address for Ledgerbridge"
    token = link_params(message)["token"]
    response = APIClient().post(reverse("auth-verify-email"), {"token": token}, format="json")
    assert response.status_code == 200
    assert User.objects.get(email=address).is_verified is True


def test_bad_verification_token_is_400():
    response = APIClient().post(reverse("auth-verify-email"), {"token": "forged"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"token": ["The link is invalid or has expired."]}
