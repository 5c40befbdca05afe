"""Fixtures for the accounts tests: API clients and logins over the real endpoints."""

import pytest
from django.urls import reverse
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.testing import DEFAULT_PASSWORD, make_user


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def user(db):
    return make_user(role="employee", email="erin@example.com", name="Erin Employee")


def app_login(client, email, password=DEFAULT_PASSWORD, **extra):
    """POST the app-mode login; returns the response."""
    body = {"email": email, "password": password, "client": "app"}
    return client.post(reverse("auth-login"), body, format="json", **extra)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def redis():
    return get_redis_connection("default")
