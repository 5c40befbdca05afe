"""Roles are groups holding exactly the permissions of `accounts/roles.py`."""

import io

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts.roles import ROLE_PERMISSIONS, Role
from accounts.selectors import user_role
from accounts.services import roles_sync, user_set_role
from accounts.tests.factories import UserFactory
from tests.support.auth import login

pytestmark = pytest.mark.django_db


def existing(names):
    return {
        name
        for name in names
        if Permission.objects.filter(
            content_type__app_label=name.split(".")[0], codename=name.split(".")[1]
        ).exists()
    }


def group_permissions(role):
    group = Group.objects.get(name=role.label)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrate_created_the_groups_with_their_permissions():
    for role, names in ROLE_PERMISSIONS.items():
        assert group_permissions(role) == existing(names)
    assert group_permissions(Role.ADMINISTRATOR) >= {"accounts.add_user", "accounts.view_user"}
    assert group_permissions(Role.VIEWER) >= {"accounts.view_user"}
    assert "accounts.add_user" not in group_permissions(Role.EMPLOYEE)


def test_sync_roles_is_idempotent_and_removes_strays():
    stray = Permission.objects.get(codename="delete_user")
    Group.objects.get(name="Viewer").permissions.add(stray)
    out = io.StringIO()

    call_command("sync_roles", stdout=out, stderr=io.StringIO())
    second = roles_sync()

    assert "accounts.delete_user" not in group_permissions(Role.VIEWER)
    assert "Viewer:" in out.getvalue()
    assert all(result.added == result.removed == 0 for result in second.values())
    assert Group.objects.filter(name__in=[role.label for role in Role]).count() == 3


def test_missing_permissions_are_skipped_then_assigned_once_they_exist(caplog):
    Permission.objects.get(content_type__app_label="accounts", codename="add_user").delete()

    first = roles_sync()

    assert "accounts.add_user" in first[Role.ADMINISTRATOR].missing
    assert "accounts.add_user" in caplog.text
    create_permissions(apps.get_app_config("accounts"), verbosity=0)
    second = roles_sync()
    assert "accounts.add_user" not in second[Role.ADMINISTRATOR].missing
    assert "accounts.add_user" in group_permissions(Role.ADMINISTRATOR)


def test_one_role_per_user_and_superusers_are_administrators():
    user = UserFactory(role="viewer")
    user_set_role(user=user, role="employee")
    superuser = UserFactory(role=None, superuser=True)

    assert list(user.groups.values_list("name", flat=True)) == ["Employee"]
    assert user_role(user) == Role.EMPLOYEE
    assert user_role(superuser) == Role.ADMINISTRATOR
    assert superuser.has_perm("accounts.add_user")


def test_permissions_come_only_from_the_group():
    viewer = UserFactory(role="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="add_user"))
    viewer = type(viewer).objects.get(pk=viewer.pk)

    assert viewer.has_perm("accounts.view_user")
    assert not viewer.has_perm("accounts.add_user")


def test_role_change_ends_sessions_but_setting_the_same_role_does_not():
    user = UserFactory(role="viewer")
    session = login(user).session

    user_set_role(user=user, role="viewer")
    session.refresh_from_db()
    assert session.revoked_at is None

    user_set_role(user=user, role="employee")
    session.refresh_from_db()
    assert session.revoked_reason == "role_change"
