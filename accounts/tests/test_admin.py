"""Users in Django admin: what a non-superuser Administrator may do, and every change of
credentials or standing ending the user's API sessions at once."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuthSession, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.auth import login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an admin-chosen passphrase 7"
SUPERUSER_ONLY_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


@pytest.fixture
def administrator():
    return UserFactory(role="administrator", email="admin@example.com")


@pytest.fixture
def admin_web(administrator):
    """Django admin, signed in as an Administrator who is not a superuser."""
    client = Client()
    client.force_login(administrator)
    return client


@pytest.fixture
def superuser():
    return UserFactory(role="administrator", superuser=True, email="root@example.com")


def form_data(response, **changes) -> dict:
    """The change form's POST as the page shows it (inline management forms included),
    with `changes` applied (False leaves a checkbox out)."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            value = "on" if value else None
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for one in formset.forms:
            data[f"{one.prefix}-id"] = one.instance.pk
            data[f"{one.prefix}-user"] = one.instance.user_id
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def post_change(client, user, **changes):
    page = client.get(change_url(user))
    assert page.status_code == 200
    return client.post(change_url(user), form_data(page, **changes))


def signed_out(tokens) -> bool:
    """The session's access token and refresh token both answer 401."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    access = client.get(reverse("users-me")).status_code
    refresh = APIClient().post(
        reverse("auth-refresh"), {"refresh_token": tokens.refresh_token}, format="json"
    )
    return access == 401 and refresh.status_code == 401


# --- Superuser fields and superuser targets ----------------------------------------------


def test_administrator_sees_no_superuser_staff_or_permission_fields(admin_web):
    colleague = UserFactory(role="employee")

    page = admin_web.get(change_url(colleague))

    assert page.status_code == 200
    for name in SUPERUSER_ONLY_FIELDS:
        assert name not in page.context["adminform"].form.fields
        assert f'name="{name}"' not in page.content.decode()


def test_superuser_sees_the_superuser_field(superuser):
    client = Client()
    client.force_login(superuser)

    page = client.get(change_url(UserFactory(role="employee")))

    assert "is_superuser" in page.context["adminform"].form.fields


def test_administrator_cannot_make_themselves_superuser(admin_web, administrator):
    response = post_change(admin_web, administrator, is_superuser="on", name="Still me")

    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.name == "Still me"
    assert not administrator.is_superuser


def test_administrator_cannot_give_staff_status_by_hand(admin_web):
    viewer = UserFactory(role="viewer")

    response = post_change(admin_web, viewer, is_staff="on", is_superuser="on")

    assert response.status_code == 302
    viewer.refresh_from_db()
    assert not viewer.is_staff
    assert not viewer.is_superuser


def test_superuser_page_is_read_only_for_an_administrator(admin_web, superuser):
    tokens = login(superuser)

    page = admin_web.get(change_url(superuser))
    post = admin_web.post(change_url(superuser), {"email": "mine@example.com"})
    password_page = admin_web.get(password_url(superuser))
    password_post = admin_web.post(
        password_url(superuser),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    delete = admin_web.post(
        reverse("admin:accounts_user_delete", args=[superuser.pk]), {"post": "yes"}
    )

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert (post.status_code, password_page.status_code) == (403, 403)
    assert (password_post.status_code, delete.status_code) == (403, 403)
    superuser.refresh_from_db()
    assert superuser.email == "root@example.com"
    assert superuser.check_password(DEFAULT_PASSWORD)
    assert not signed_out(tokens)


def test_administrator_cannot_revoke_a_superusers_session(admin_web, superuser):
    tokens = login(superuser)

    response = admin_web.post(
        reverse("admin:accounts_authsession_changelist"),
        {"action": "revoke", "_selected_action": [tokens.session.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 session(s) of superusers left open" in response.content.decode()

    assert AuthSession.objects.get(pk=tokens.session.pk).revoked_at is None
    assert not signed_out(tokens)


def test_superuser_grants_superuser_status_and_the_sessions_end(superuser):
    client = Client()
    client.force_login(superuser)
    administrator = UserFactory(role="administrator")
    tokens = login(administrator)

    response = post_change(client, administrator, is_superuser="on")

    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.is_superuser
    assert signed_out(tokens)


# --- Changes of credentials or standing end the sessions --------------------------------


def test_admin_password_change_ends_the_users_sessions(admin_web):
    user = UserFactory(role="employee")
    tokens = login(user)

    response = admin_web.post(
        password_url(user),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert signed_out(tokens)


def test_admin_deactivation_ends_the_users_sessions(admin_web):
    user = UserFactory(role="employee")
    tokens = login(user)

    response = post_change(admin_web, user, is_active=False)

    assert response.status_code == 302
    assert not User.objects.get(pk=user.pk).is_active
    assert signed_out(tokens)


def test_admin_role_change_ends_the_users_sessions(admin_web):
    user = UserFactory(role="employee")
    tokens = login(user)

    response = post_change(admin_web, user, role="viewer")

    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert not user.is_staff  # Viewers do not use admin
    assert signed_out(tokens)


def test_admin_profile_change_keeps_the_sessions(admin_web):
    user = UserFactory(role="employee")
    tokens = login(user)

    response = post_change(admin_web, user, name="New Name")

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).name == "New Name"
    assert not signed_out(tokens)


def test_admin_deleting_a_session_ends_its_tokens(superuser):
    client = Client()
    client.force_login(superuser)  # deleting sessions: superusers only (no role has it)
    user = UserFactory(role="employee")
    tokens = login(user)
    url = reverse("admin:accounts_authsession_delete", args=[tokens.session.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not AuthSession.objects.filter(pk=tokens.session.pk).exists()
    assert signed_out(tokens)


def test_administrator_cannot_delete_a_superusers_session(admin_web, superuser):
    tokens = login(superuser)
    url = reverse("admin:accounts_authsession_delete", args=[tokens.session.pk])

    assert admin_web.post(url, {"post": "yes"}).status_code == 403

    assert AuthSession.objects.get(pk=tokens.session.pk).revoked_at is None
