"""Shared pytest fixtures: a real Celery worker process on the configured broker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database the tests are using (the test database)."""
    engine = settings_dict["ENGINE"]
    name = settings_dict["NAME"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{name}"


def worker_env(database_url: str, **overrides: str) -> dict:
    """The environment of a test worker: the test database and the sandbox on loopback
    allowed (the worker reads its settings from the environment, not from the tests)."""
    return dict(
        os.environ, DATABASE_URL=database_url, PYTHONUNBUFFERED="1",
        INTEGRATIONS_ALLOW_LOCAL_URLS="true", **overrides,
    )  # fmt: skip


def worker_mail_to(address: str) -> list[str]:
    """The messages test workers sent to `address` (raw text). The worker writes mail with
    the configured file backend; the test process itself has Django's in-memory one."""
    from project import settings as project_settings

    mail_dir = Path(project_settings.MAILERS["default"]["OPTIONS"]["file_path"])
    if not mail_dir.exists():
        return []
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for message in path.read_text(errors="replace").split("-" * 79):
            if any(line == f"To: {address}" for line in message.splitlines()):
                messages.append(message)
    return messages


def start_worker(env: dict, *, extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start `celery worker` as a separate process and wait until it answers a ping."""
    from project.celery import app

    log = open(BASE_DIR / "var" / f"test-worker-{os.getpid()}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool", "solo",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", *extra_args],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with {proc.returncode}; see {log.name}")
        if app.control.ping(timeout=0.5):
            return proc
    proc.kill()
    raise RuntimeError(f"celery worker did not answer within 60s; see {log.name}")


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real worker process sharing the test database, broker and cache."""
    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url_for(connection.settings_dict)
    env = worker_env(url)
    proc = start_worker(env)
    yield proc
    stop_process(proc)


# --- Accounts: users with a role and API clients logged in as them (issue 3) ---------
@pytest.fixture
def make_user(db):
    """`make_user(role="employee", **fields)` -> a saved user with that role."""
    from accounts.testing import make_user as _make_user

    return _make_user


@pytest.fixture
def role_client(db):
    """`role_client("viewer")` -> an APIClient with a Bearer token of a new user with that
    role (`client.user`); `role_client(None)` -> an anonymous client."""
    from rest_framework.test import APIClient

    from accounts.testing import api_client_for

    def _client(role, **user_fields):
        if role in (None, "anonymous"):
            return APIClient()
        from accounts.testing import make_user as _make_user

        return api_client_for(_make_user(role=role, **user_fields))

    return _client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests hash with MD5 (Argon2 stays first in settings)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _delete_access_tokens():
    """Remove the access tokens a test stored (never `cache.clear()`: the queue lives there)."""
    yield
    from django.core.cache import cache

    from accounts.tokens import ACCESS_KEY_PREFIX

    cache.delete_pattern(f"{ACCESS_KEY_PREFIX}*")
