"""The users API: visibility of fields, self-service limits, administrator writes."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from tests.support.auth import api_client_for

pytestmark = pytest.mark.django_db

LIST = reverse("users-list")
ME = reverse("users-me")
PUBLIC_FIELDS = {"id", "email", "name", "age", "is_verified", "role", "is_active", "created_at"}
SELF_FIELDS = PUBLIC_FIELDS | {"date_of_birth", "last_login", "date_joined"}


def detail(user):
    return reverse("users-detail", args=[user.pk])


def test_colleagues_see_no_sensitive_fields(user):
    viewer = api_client_for(role="viewer")
    user.date_of_birth = date(1990, 1, 1)
    user.save()

    response = viewer.get(detail(user))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body["role"] == "employee"
    assert isinstance(body["age"], int)


def test_administrators_see_sensitive_fields_and_sessions(user):
    admin = api_client_for(role="administrator")
    api_client_for(user)  # one open session

    body = admin.get(detail(user)).json()

    assert set(body) == SELF_FIELDS | {"sessions"}
    assert [session["user_agent"] for session in body["sessions"]] == ["pytest"]


def test_list_query_count_does_not_grow_with_users(django_assert_num_queries):
    viewer = api_client_for(role="viewer")
    for role in ("viewer", "employee", "administrator"):
        UserFactory(role=role)
    UserFactory(role=None, superuser=True)

    # user (auth) + permissions + page + groups prefetch
    with django_assert_num_queries(4):
        response = viewer.get(LIST)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 5
    assert sorted(row["role"] for row in rows) == [
        "administrator", "administrator", "employee", "viewer", "viewer",
    ]  # fmt: skip
    for row in rows:
        assert set(row) == (SELF_FIELDS if row["id"] == str(viewer.user.pk) else PUBLIC_FIELDS)


def test_me_shows_own_sensitive_fields(user):
    client = api_client_for(user)

    body = client.get(ME).json()

    assert set(body) == SELF_FIELDS
    assert body["id"] == str(user.pk)


def test_me_patch_changes_name_and_date_of_birth(user):
    client = api_client_for(user)

    response = client.patch(ME, {"name": "Erin N.", "date_of_birth": "1991-02-03"}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.name, user.date_of_birth) == ("Erin N.", date(1991, 2, 3))


def test_me_email_change_needs_verification_again(user, django_capture_on_commit_callbacks):
    client = api_client_for(user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.patch(ME, {"email": "erin.new@example.com"}, format="json")

    assert response.status_code == 200
    assert response.json()["is_verified"] is False
    user.refresh_from_db()
    assert (user.email, user.is_verified) == ("erin.new@example.com", False)
    assert len(callbacks) == 1  # the verification email, queued after commit


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"role": "administrator"}, {"role": ["This field is read-only."]}),
        ({"is_staff": True, "name": "X"}, {"is_staff": ["This field is read-only."]}),
        (
            {"is_superuser": True, "is_verified": True},
            {
                "is_superuser": ["This field is read-only."],
                "is_verified": ["This field is read-only."],
            },
        ),
        ({"id": "00000000-0000-0000-0000-000000000000"}, {"id": ["This field is read-only."]}),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_me_read_only_fields_are_400_and_change_nothing(user, payload, errors):
    client = api_client_for(user)
    before = User.objects.filter(pk=user.pk).values().get()

    response = client.patch(ME, payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert User.objects.filter(pk=user.pk).values().get() == before
    assert set(user.groups.values_list("name", flat=True)) == {"Employee"}


def test_me_email_must_be_free(user):
    other = UserFactory(email="taken@example.com")
    client = api_client_for(user)

    response = client.patch(ME, {"email": "TAKEN@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "email": ["A user with this email address already exists."]
    }
    assert other.email == "taken@example.com"


def test_admin_creates_user_with_password(django_capture_on_commit_callbacks):
    admin = api_client_for(role="administrator")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post(
            LIST,
            {
                "email": "new@example.com",
                "name": "New",
                "role": "employee",
                "password": "a fine long passphrase 1",
            },
            format="json",
        )

    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"], body["is_verified"]) == (
        "new@example.com",
        "employee",
        False,
    )
    user = User.objects.get(email="new@example.com")
    assert user.check_password("a fine long passphrase 1")
    assert user.is_staff is True  # Employees may use the admin site within their permissions
    assert len(callbacks) == 1  # verification email


def test_admin_creates_user_by_invitation():
    admin = api_client_for(role="administrator")

    response = admin.post(LIST, {"email": "invited@example.com", "role": "viewer"}, format="json")

    assert response.status_code == 201
    user = User.objects.get(email="invited@example.com")
    assert not user.has_usable_password()
    assert user.is_staff is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "x@example.com"}, "role"),
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "x@example.com", "role": "boss"}, "role"),
        ({"email": "x@example.com", "role": "viewer", "password": "123"}, "password"),
        ({"email": "x@example.com", "role": "viewer", "is_superuser": True}, "is_superuser"),
    ],
)
def test_admin_create_validation(payload, field):
    admin = api_client_for(role="administrator")
    count = User.objects.count()

    response = admin.post(LIST, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert User.objects.count() == count


def test_admin_patch_and_deactivate(user):
    admin = api_client_for(role="administrator")

    patched = admin.patch(detail(user), {"role": "administrator", "name": "Erin A."}, format="json")
    deleted = admin.delete(detail(user))

    assert patched.status_code == 200
    assert (patched.json()["role"], patched.json()["name"]) == ("administrator", "Erin A.")
    assert deleted.status_code == 204
    user.refresh_from_db()
    assert user.is_active is False  # the row stays
    viewer = api_client_for(role="viewer")
    assert viewer.get(detail(user)).status_code == 404
    assert admin.get(detail(user)).json()["is_active"] is False
    assert admin.patch(detail(user), {"is_active": True}, format="json").json()["is_active"] is True


def test_admin_cannot_deactivate_themselves():
    admin = api_client_for(role="administrator")

    response = admin.delete(detail(admin.user))

    assert response.status_code == 400
    admin.user.refresh_from_db()
    assert admin.user.is_active is True


def test_list_filters_search_and_ordering():
    # A fixed name: a random one could sort before "Alma" and make the ordering check flaky.
    viewer = api_client_for(UserFactory(role="viewer", name="Zed Viewer"))
    UserFactory(role="employee", name="Alma Employee", email="alma@example.com", is_verified=False)
    UserFactory(role=None, name="Root", email="root@example.com", superuser=True)
    UserFactory(role="administrator", name="Bob Admin", email="bob@example.com")

    def emails(query):
        response = viewer.get(LIST + query)
        assert response.status_code == 200, response.json()
        return [row["email"] for row in response.json()["results"]]

    assert emails("?role=administrator&ordering=email") == ["bob@example.com", "root@example.com"]
    assert emails("?role=employee") == ["alma@example.com"]
    assert emails("?is_verified=false") == ["alma@example.com"]
    assert emails("?search=ALMA") == ["alma@example.com"]
    assert emails("?ordering=name")[:2] == ["alma@example.com", "bob@example.com"]
    bad = viewer.get(LIST + "?age=abc&role=boss")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"age", "role"}
