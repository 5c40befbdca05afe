"""Fixtures for the accounts tests: API clients and logins over the real endpoints."""

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(role="employee", email="erin@example.com", name="Erin Employee")


@pytest.fixture
def redis():
    return get_redis_connection("default")
