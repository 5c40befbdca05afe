"""Settings load in both modes, and the embedded default is shared across processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.workers import stop_process

BASE_DIR = Path(__file__).resolve().parents[2]
ENV_KEYS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND", "VAR_DIR", "ALLOWED_HOSTS", "EMAIL_URL",
            "FIELD_ENCRYPTION_KEYS")  # fmt: skip
TEST_FERNET_KEY = "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5ISE="

DUMP_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "cache": settings.CACHES["default"]["LOCATION"],
    "broker": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG,
    "email": settings.MAILERS["default"]["BACKEND"],
}))
"""


def clean_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["DJANGO_SETTINGS_MODULE"] = "project.settings"
    env.update(overrides)
    return env


def run_python(code: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


def test_embedded_default_with_nothing_configured(tmp_path):
    result = run_python(DUMP_SETTINGS, clean_env(DEBUG="true", VAR_DIR=str(tmp_path)))

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["db_name"] == str(tmp_path / "db.sqlite3")
    assert loaded["cache"] == f"unix://{tmp_path / 'valkey.sock'}?db=0"
    assert loaded["broker"] == f"redis+socket://{tmp_path / 'valkey.sock'}?db=0"
    assert loaded["email"] == "django.core.mail.backends.filebased.EmailBackend"


def test_production_mode_uses_postgres_and_redis(tmp_path):
    env = clean_env(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS=TEST_FERNET_KEY,
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://app:pw@db.internal:5432/ledgerbridge",
        REDIS_URL="redis://cache.internal:6379/2",
        ALLOWED_HOSTS="ledgerbridge.example",
    )

    result = run_python(DUMP_SETTINGS, env)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["db_name"] == "ledgerbridge"
    assert loaded["conn_max_age"] == 600
    assert loaded["cache"] == "redis://cache.internal:6379/2"
    assert loaded["broker"] == "redis://cache.internal:6379/2"
    assert loaded["debug"] is False


def test_secret_key_required_when_debug_off(tmp_path):
    result = run_python(DUMP_SETTINGS, clean_env(DEBUG="false", VAR_DIR=str(tmp_path)))

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_field_encryption_keys_required_when_debug_off(tmp_path):
    env = clean_env(DEBUG="false", SECRET_KEY="x" * 50, VAR_DIR=str(tmp_path))

    result = run_python(DUMP_SETTINGS, env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr
    assert not (tmp_path / "field_encryption_key").exists()


def test_a_malformed_field_encryption_key_is_refused_without_echoing_it(tmp_path):
    env = clean_env(DEBUG="false", SECRET_KEY="x" * 50, VAR_DIR=str(tmp_path),
                    FIELD_ENCRYPTION_KEYS=f"{TEST_FERNET_KEY},not-a-real-key-s3cret")  # fmt: skip

    result = run_python(DUMP_SETTINGS, env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS: key number 2 is not a Fernet key" in result.stderr
    assert "not-a-real-key-s3cret" not in result.stderr


def test_development_generates_and_keeps_a_field_encryption_key(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.FIELD_ENCRYPTION_KEYS[0])"
    env = clean_env(DEBUG="true", VAR_DIR=str(tmp_path))

    first, second = run_python(code, env), run_python(code, env)

    assert first.returncode == 0, first.stderr
    stored = (tmp_path / "field_encryption_key").read_text().strip()
    assert first.stdout.strip() == second.stdout.strip() == stored
    assert (tmp_path / "field_encryption_key").stat().st_mode & 0o777 == 0o600


@pytest.fixture
def embedded_valkey():
    """A private embedded Valkey in its own var dir, as `make run` starts it."""
    var_dir = Path("/tmp") / f"lb-embedded-{os.getpid()}"  # short: unix socket paths are limited
    var_dir.mkdir(exist_ok=True)
    env = clean_env(DEBUG="true", VAR_DIR=str(var_dir))
    started = subprocess.run(
        [sys.executable, "-m", "project.devservices", "ensure"], cwd=BASE_DIR, env=env,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    yield env
    subprocess.run(
        [sys.executable, "-m", "project.devservices", "stop"], cwd=BASE_DIR, env=env, timeout=30
    )


def test_embedded_cache_is_shared_between_processes(embedded_valkey):
    writer = run_python(
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "cache.set('shared-key', {'written_by': 'writer'}, 60)\n",
        embedded_valkey,
    )
    reader = run_python(
        "import django, json; django.setup()\n"
        "from django.core.cache import cache\n"
        "print(json.dumps(cache.get('shared-key')))\n",
        embedded_valkey,
    )

    assert writer.returncode == 0, writer.stderr
    assert reader.returncode == 0, reader.stderr
    assert json.loads(reader.stdout) == {"written_by": "writer"}


def test_embedded_queue_is_run_by_a_separate_worker(embedded_valkey):
    queued = run_python(
        "import django; django.setup()\n"
        "from project.celery import ping\n"
        "print(ping.delay('from-another-process').id)\n",
        embedded_valkey,
    )
    assert queued.returncode == 0, queued.stderr
    task_id = queued.stdout.strip()

    worker = _start_worker_in(embedded_valkey)
    try:
        waited = run_python(
            "import django, json; django.setup()\n"
            "from project.celery import app\n"
            f"print(json.dumps(app.AsyncResult('{task_id}').get(timeout=30)))\n",
            embedded_valkey,
        )
    finally:
        stop_process(worker)

    assert waited.returncode == 0, waited.stderr
    answer = json.loads(waited.stdout)
    assert answer["payload"] == "from-another-process"
    assert answer["pid"] == worker.pid


def _start_worker_in(env: dict) -> subprocess.Popen:
    """Start a worker on the embedded broker; readiness is probed from a child process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc


NAMESPACE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "cache_prefix": settings.CACHES["default"]["KEY_PREFIX"],
    "broker": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix"),
    "results": settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS.get("global_keyprefix"),
    "mail": settings.MAILERS["default"]["OPTIONS"]["file_path"],
}))
"""


def test_each_parallel_test_process_has_its_own_redis_namespace_and_mail_folder(tmp_path):
    """pytest-xdist names each process in PYTEST_XDIST_WORKER; its Celery worker inherits it."""
    env = clean_env(DEBUG="true", VAR_DIR=str(tmp_path))
    env.pop("PYTEST_XDIST_WORKER", None)

    alone = run_python(NAMESPACE, env)
    gw3 = run_python(NAMESPACE, {**env, "PYTEST_XDIST_WORKER": "gw3"})

    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout) == {
        "cache_prefix": "lb",
        "broker": None,
        "results": None,
        "mail": str(tmp_path / "mail"),
    }
    assert gw3.returncode == 0, gw3.stderr
    assert json.loads(gw3.stdout) == {
        "cache_prefix": "lb-gw3",
        "broker": "test-gw3:",
        "results": "test-gw3:",
        "mail": str(tmp_path / "mail" / "gw3"),
    }
