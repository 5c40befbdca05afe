"""Only a superuser acts on a superuser, through the API and the services alike."""

import getpass

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import AuthSession, SessionEndReason
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.auth import api_client_for, login

pytestmark = pytest.mark.django_db

ME = reverse("users-me")


def detail(user):
    return reverse("users-detail", args=[user.pk])


def sessions_revoke(user):
    return reverse("users-sessions-revoke", args=[user.pk])


def bearer_client(tokens):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    return client


@pytest.fixture
def superuser():
    return UserFactory(role="administrator", superuser=True, email="root@example.com")


@pytest.fixture
def administrator():
    return api_client_for(role="administrator")


def _still_signed_in(tokens) -> bool:
    return bearer_client(tokens).get(ME).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": "mine@example.com"},
        {"password": "a brand new passphrase 1"},
        {"role": "viewer"},
        {"is_active": False},
        {"name": "Renamed"},
    ],
)
def test_administrator_cannot_change_a_superuser(administrator, superuser, body):
    tokens = login(superuser)

    response = administrator.patch(detail(superuser), body, format="json")

    assert response.status_code == 403, response.content
    superuser.refresh_from_db()
    assert superuser.email == "root@example.com"
    assert superuser.is_active
    assert superuser.is_superuser
    assert superuser.check_password(DEFAULT_PASSWORD)
    assert _still_signed_in(tokens)


def test_administrator_cannot_deactivate_a_superuser(administrator, superuser):
    tokens = login(superuser)

    assert administrator.delete(detail(superuser)).status_code == 403

    superuser.refresh_from_db()
    assert superuser.is_active
    assert _still_signed_in(tokens)


def test_administrator_cannot_end_a_superusers_sessions(administrator, superuser):
    tokens = login(superuser)

    assert administrator.post(sessions_revoke(superuser)).status_code == 403

    assert AuthSession.objects.get(pk=tokens.session.pk).revoked_at is None
    assert _still_signed_in(tokens)


def test_superuser_acts_on_a_superuser(superuser):
    other = UserFactory(role=None, superuser=True, email="root2@example.com")
    tokens = login(other)
    root = api_client_for(superuser)

    response = root.patch(detail(other), {"email": "root3@example.com"}, format="json")
    assert response.status_code == 200
    assert root.post(sessions_revoke(other)).status_code == 204

    assert not _still_signed_in(tokens)
    assert AuthSession.objects.get(pk=tokens.session.pk).revoked_reason == SessionEndReason.ADMIN


def test_administrator_ends_a_colleagues_sessions(administrator):
    colleague = UserFactory(role="employee")
    tokens = login(colleague)

    assert administrator.post(sessions_revoke(colleague)).status_code == 204

    assert not _still_signed_in(tokens)
    refresh = bearer_client(tokens).post(
        reverse("auth-refresh"), {"refresh_token": tokens.refresh_token}, format="json"
    )
    assert refresh.status_code == 401


def test_superuser_status_is_granted_and_removed_by_superusers_only(superuser):
    administrator = UserFactory(role="administrator")

    with pytest.raises(services.SuperuserRequired):
        services.user_update(user=administrator, by=administrator, is_superuser=True)
    administrator.refresh_from_db()
    assert not administrator.is_superuser

    tokens = login(administrator)
    services.user_update(user=administrator, by=superuser, is_superuser=True)
    administrator.refresh_from_db()
    assert administrator.is_superuser
    assert administrator.is_staff
    assert not _still_signed_in(tokens)  # a change of standing ends the sessions

    tokens = login(administrator)
    services.user_update(user=administrator, by=superuser, is_superuser=False)
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert administrator.is_staff
    assert not _still_signed_in(tokens)


def test_every_service_refuses_a_non_superuser_acting_on_a_superuser(superuser):
    administrator = UserFactory(role="administrator")
    tokens = login(superuser)
    calls = [
        lambda: services.user_update(user=superuser, by=administrator, email="x@example.com"),
        lambda: services.user_set_role(user=superuser, role="viewer", by=administrator),
        lambda: services.user_password_set(user=superuser, password="x y z w 12", by=administrator),
        lambda: services.user_deactivate(user=superuser, by=administrator),
        lambda: services.user_sessions_end(user=superuser, by=administrator),
        lambda: services.session_revoke(
            session=tokens.session, reason=SessionEndReason.ADMIN, by=administrator
        ),
    ]
    for call in calls:
        with pytest.raises(services.SuperuserRequired):
            call()
    assert _still_signed_in(tokens)


def test_changepassword_command_ends_the_users_sessions(monkeypatch):
    user = UserFactory(role="employee", email="cmd@example.com")
    tokens = login(user)
    new_password = "a new passphrase 2026"
    monkeypatch.setattr(getpass, "getpass", lambda prompt=None: new_password)

    call_command("changepassword", "CMD@example.com")

    user.refresh_from_db()
    assert user.check_password(new_password)
    assert not _still_signed_in(tokens)
