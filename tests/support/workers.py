"""Real Celery worker processes for the tests, one namespace per test process.

A worker started here reads its settings from the environment, like any worker: it
gets the test database's URL and inherits `PYTEST_XDIST_WORKER`, so under pytest-xdist
it uses the same broker and cache namespace and mail folder as the test process that
started it (see "Parallel test processes" in project/settings.py).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from project import settings as project_settings  # the module: tests swap the mailer
from project.celery import app

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_COMMAND = (
    "-m celery -A project worker --pool solo --loglevel INFO --without-gossip --without-mingle"
)


def test_worker_name() -> str:
    """This test process's name under pytest-xdist (gw0, gw1, ...), or "main"."""
    return settings.TEST_WORKER or "main"


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
        os.environ,
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        INTEGRATIONS_ALLOW_LOCAL_URLS="true",
        **overrides,
    )


def worker_mail_to(address: str) -> list[str]:
    """The messages test workers sent to `address` (raw text). The worker writes mail with
    the configured file backend (this test process's own folder under xdist); the test
    process itself has Django's in-memory one, hence the settings module, not `settings`."""
    mail_dir = Path(project_settings.MAILERS["default"]["OPTIONS"]["file_path"])
    if not mail_dir.exists():
        return []
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for message in path.read_text(errors="replace").split("-" * 79):
            if any(line == f"To: {address}" for line in message.splitlines()):
                messages.append(message)
    return messages


def _node_name(extra_args: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The worker's node name (`-n`, `%h` expanded) and the arguments that set it: a
    name of its own per test process unless the caller gave one."""
    args = list(extra_args)
    if "-n" in args:
        index = args.index("-n") + 1
    else:
        args += ["-n", f"test-{test_worker_name()}-{os.getpid()}-{time.monotonic_ns()}@%h"]
        index = len(args) - 1
    args[index] = args[index].replace("%h", socket.gethostname())
    return args[index], tuple(args)


def start_worker(env: dict, *, extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start `celery worker` as a separate process and wait until it answers a ping
    (addressed to it by name: another worker on the namespace must not answer for it)."""
    node, args = _node_name(extra_args)
    log_path = Path(settings.VAR_DIR) / f"test-celery-{test_worker_name()}.log"
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, *WORKER_COMMAND.split(), *args],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with {proc.returncode}; see {log_path}")
        if app.control.ping(destination=[node], timeout=0.5):
            proc.node = node
            return proc
    proc.kill()
    raise RuntimeError(f"celery worker {node} did not answer within 60s; see {log_path}")


def wait_until_idle(proc: subprocess.Popen, *, seconds: float = 30.0) -> bool:
    """Wait until the worker `proc` runs no task and holds none it has received (tasks
    waiting for a countdown aside). A transactional test's database is emptied with
    TRUNCATE after the test: a task the test's commit set off, still reading when that
    starts, can deadlock with it. False when it was still busy after `seconds`."""
    node = getattr(proc, "node", None)
    if node is None or proc.poll() is not None:
        return True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        inspect = app.control.inspect(destination=[node], limit=1, timeout=2)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        if not active.get(node) and not reserved.get(node):
            return True
        time.sleep(0.1)
    return False


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
