"""Shared pytest fixtures: users and API clients per role, a real Celery worker process.

Under pytest-xdist every test process has its own test database (pytest-django adds the
worker's name to it), its own namespace on the shared Redis database and its own mail
folder (project/settings.py, "Parallel test processes"), and starts its own Celery
worker on that namespace and database (`celery_worker_process`).
"""

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tokens import ACCESS_KEY_PREFIX
from project.celery import app
from tests.support.auth import api_client_for
from tests.support.workers import (
    database_url_for,
    start_worker,
    stop_process,
    wait_until_idle,
    worker_env,
)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real worker process sharing this test process's database, broker and cache."""
    with django_db_blocker.unblock():
        url = database_url_for(connection.settings_dict)
    if django_settings.TEST_WORKER:
        app.control.purge()  # what an earlier run left in this namespace's queue
    proc = start_worker(worker_env(url))
    yield proc
    stop_process(proc)


@pytest.fixture(autouse=True)
def _worker_idle_before_flush(request):
    """A test that shares the worker waits, at its end, until the worker is idle, so the
    database flush after a transactional test never races a task the test set off. (An
    autouse fixture of this conftest tears down before pytest-django's database fixture,
    which pytest-django's own autouse marker fixture sets up first.)"""
    yield
    if "celery_worker_process" in request.fixturenames:
        wait_until_idle(request.getfixturevalue("celery_worker_process"))


# --- Accounts: users with a role and API clients logged in as them (issue 3) ---------
@pytest.fixture
def make_user(db):
    """`make_user(role="employee", **fields)` -> a saved user with that role."""
    return UserFactory


@pytest.fixture
def role_client(db):
    """`role_client("viewer")` -> an APIClient with a Bearer token of a new user with that
    role (`client.user`); `role_client(None)` -> an anonymous client."""

    def _client(role, **user_fields):
        if role in (None, "anonymous"):
            return APIClient()
        return api_client_for(UserFactory(role=role, **user_fields))

    return _client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests hash with MD5 (Argon2 stays first in settings)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _delete_access_tokens():
    """Remove the access tokens a test stored (never `cache.clear()`: the queue lives there).
    The pattern is under this test process's cache key prefix, so under pytest-xdist it
    never touches another process's tokens."""
    yield
    cache.delete_pattern(f"{ACCESS_KEY_PREFIX}*")


# --- Throttles (issue 10): every test client is 127.0.0.1 and Redis keeps the counts
# between tests, so throttles are off; accounts/tests/test_throttles.py turns the real
# rates back on for itself.
@pytest.fixture(autouse=True)
def _throttles_off(settings):
    settings.THROTTLE_RATES = dict.fromkeys(settings.THROTTLE_RATES)
