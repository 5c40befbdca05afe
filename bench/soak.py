"""`make soak`: mixed authenticated traffic for SOAK_SECONDS against a production-like
instance, with a Redis outage and a forced drop of every database connection midway.

    SOAK_SECONDS=600 .venv/bin/python bench/soak.py

Everything it uses is its own and on loopback: a redis-server on a free port (no
persistence, in a temp dir; never the shared one on 6379), the PostgreSQL database
`ledgerbridge_soak` on 127.0.0.1:5432 (created fresh, dropped at the end), the Moneybird
sandbox, gunicorn with two sync workers (its own control socket) and one Celery worker,
all with DEBUG off and secrets from the environment. Requests carry
`X-Forwarded-Proto: https`, as the TLS proxy sends. Logs and the report stay in
`var/soak/<run>/`. See bench/README.md ("make soak") for what is checked.

Settings (environment): SOAK_SECONDS (600), SOAK_CLIENTS (6 threads, at least 4: an
Administrator and a Viewer with Bearer tokens, Employees, and an Administrator using the
API through a Django admin session), SOAK_PG_URL (postgres://postgres@127.0.0.1:5432/postgres,
the server's maintenance database), SOAK_KEEP=1 (keep the database for inspection).
Exits 1 when any check fails, 2 when the run itself could not be done.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import psycopg  # noqa: E402

from bench import soak_checks as verdicts  # noqa: E402
from bench import soak_report  # noqa: E402
from bench.soak_client import Ledger  # noqa: E402
from bench.soak_procs import Procs, free_port, rss_kb  # noqa: E402
from bench.soak_traffic import AdminSessionUser, AppUser  # noqa: E402

DB_NAME = "ledgerbridge_soak"
OUTAGE_SECONDS = 10
# The push lease (a crashed attempt's item is taken up again after it) is shortened from
# 300 s so that what crashed in the outage is taken up within the run; an attempt against
# the sandbox on loopback takes well under a second.
PUSH_LEASE_SECONDS = 90
DRAIN_SECONDS = 60
SWEEP = "from integrations.tasks.push import push_sweep; push_sweep.delay()"


def log(t0: float, message: str) -> None:
    print(f"[{time.monotonic() - t0:7.1f}s] {message}", flush=True)


def _interrupt(*_):
    raise KeyboardInterrupt


class Soak:
    def __init__(self):
        self.seconds = float(os.environ.get("SOAK_SECONDS", "600"))
        self.clients = max(4, int(os.environ.get("SOAK_CLIENTS", "6")))
        self.keep = os.environ.get("SOAK_KEEP") == "1"
        pg = os.environ.get("SOAK_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        self.admin_dsn = pg.replace("postgres://", "postgresql://", 1)
        self.dsn = self.admin_dsn.rsplit("/", 1)[0] + f"/{DB_NAME}"
        self.run_id = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = BASE_DIR / "var" / "soak" / self.run_id
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="lb-soak-"))
        self.t0 = time.monotonic()
        self.procs = Procs(self.run_dir, self.tmp, lambda m: log(self.t0, m))
        self.ledger = Ledger()
        self.events: list[tuple[float, str]] = []
        self.rss: list[tuple[float, str, int, int]] = []  # (t, group, pid, kB)
        self.stop_sampling = threading.Event()
        self.deaths: dict[str, int] = {}

    def event(self, message: str) -> None:
        self.events.append((round(time.monotonic() - self.t0, 1), message))
        log(self.t0, message)

    # --- setup -----------------------------------------------------------------------------

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        from cryptography.fernet import Fernet

        env.update(
            DJANGO_SETTINGS_MODULE="project.settings",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.dsn.replace("postgresql://", "postgres://", 1),
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            VAR_DIR=str(self.tmp / "var"),
            EMAIL_URL=f"filemail://{self.tmp / 'mail'}",
            FRONTEND_URL="https://ledgerbridge.invalid",
            INTEGRATIONS_ALLOW_LOCAL_URLS="true",
            INTEGRATIONS_PUSH_LEASE_SECONDS=str(PUSH_LEASE_SECONDS),
            SANDBOX_TOKEN=secrets.token_urlsafe(24),
            PYTHONPATH=str(BASE_DIR),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        return env

    def create_database(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
            ).fetchone()[0]
            if busy:
                raise SystemExit(f"{DB_NAME} has {busy} open connections: is another soak running?")
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def drop_database(self) -> None:
        if self.keep:
            log(self.t0, f"SOAK_KEEP=1: database {DB_NAME} kept")
            return
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')

    def setup(self) -> dict:
        self.redis_port = free_port()
        self.procs.redis_start(self.redis_port)
        self.create_database()
        self.app_env = env = self.env()
        self.procs.run(["manage.py", "migrate", "--noinput", "-v", "0"], env, "migrate")
        sandbox_port = free_port()
        self.procs.start(
            "sandbox",
            [
                sys.executable,
                "manage.py",
                "run_sandbox",
                "--port",
                str(sandbox_port),
                "--seed",
                "empty",
                "--no-rate-limit",
            ],
            env,
        )
        self.procs.wait_port(sandbox_port, "sandbox")
        self.password = secrets.token_urlsafe(18)
        kinds = [("administrator", "app"), ("viewer", "app")]
        kinds += [("employee", "app")] * (self.clients - 3) + [("administrator", "session")]
        self.users = [
            (f"soak-{n}-{role}-{kind}@example.com", role, kind)
            for n, (role, kind) in enumerate(kinds)
        ]
        plan = {
            "password": self.password,
            "contacts": 12,
            "products": 15,
            "users": [{"email": e, "role": r} for e, r, _ in self.users],
            "sandbox_url": f"http://127.0.0.1:{sandbox_port}/api/v2",
        }
        out = self.procs.run(["bench/soak_seed.py", json.dumps(plan)], env, "seed")
        seed = json.loads(out.strip().splitlines()[-1])
        self.procs.start(
            "celery",
            [
                str(BASE_DIR / ".venv/bin/celery"),
                "-A",
                "project",
                "worker",
                "-l",
                "info",
                "-c",
                "2",
                "-n",
                f"soak-{self.run_id}@%h",
            ],
            env,
        )
        self.web_port = free_port()
        self.procs.start(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi",
                "-c",
                "project/gunicorn_conf.py",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--max-requests",
                "0",
                "--control-socket",
                str(self.tmp / "gunicorn.ctl"),
                "--access-logfile",
                str(self.run_dir / "access.log"),
            ],
            env,
        )
        self.procs.wait_healthy(self.web_port)
        return seed

    # --- during the run ------------------------------------------------------------------------

    def groups(self) -> dict[str, list[int]]:
        """gunicorn's workers one by one; the Celery worker with its pool children."""
        out = {}
        for n, pid in enumerate(sorted(self.procs.children("gunicorn"))):
            out[f"gunicorn worker {n + 1} (pid {pid})"] = [pid]
        celery = self.procs.pid("celery")
        if celery:
            out["celery worker (main + pool)"] = [celery, *self.procs.children("celery")]
        return out

    def sample(self) -> None:
        while not self.stop_sampling.wait(2.0):
            t = time.monotonic() - self.t0
            for group, pids in self.groups().items():
                total = sum(rss_kb(pid) for pid in pids)
                self.rss.append((t, group, len(pids), total))
            for name, code in self.procs.exited():
                if name not in self.deaths:
                    self.deaths[name] = code
                    self.event(f"{name} exited (status {code})")

    def chaos(self, start: float) -> None:
        at = lambda fraction: start + self.seconds * fraction  # noqa: E731
        self.sleep_until(at(0.4))
        self.event(f"Redis outage: stopping redis-server for {OUTAGE_SECONDS} s")
        stopped = time.monotonic()
        self.procs.redis_stop()
        self.sleep_until(stopped + OUTAGE_SECONDS)
        self.procs.redis_start(self.redis_port)
        self.event("Redis is back (empty: no persistence)")
        self.sleep_until(max(at(0.6), time.monotonic() + 5))
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [DB_NAME],
            ).fetchone()[0]
        self.event(f"pg_terminate_backend: {killed} connections of {DB_NAME} dropped")

    def sleep_until(self, moment: float) -> None:
        while (left := moment - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))

    def traffic(self, seed: dict) -> None:
        start = time.monotonic()
        deadline = start + self.seconds
        self.traffic_start = start - self.t0
        threads, errors = [], []
        for n, (email, role, kind) in enumerate(self.users):
            client = (AdminSessionUser if kind == "session" else AppUser)(
                name=f"c{n}",
                port=self.web_port,
                email=email,
                password=self.password,
                role=role,
                seed=seed,
                ledger=self.ledger,
                run_id=self.run_id,
                t0=self.t0,
            )

            def body(client=client):
                try:
                    client.run(deadline)
                except Exception as exc:  # a client bug must fail the run, not hide
                    errors.append(f"{client.name}: {exc!r}")
                    log(self.t0, f"client {client.name} crashed: {exc!r}")

            threads.append(threading.Thread(target=body, name=client.name, daemon=True))
        chaos = threading.Thread(target=self.chaos, args=(start,), daemon=True)
        for thread in threads:
            thread.start()
        chaos.start()
        self.event(f"traffic: {len(threads)} clients for {self.seconds:.0f} s")
        for thread in [*threads, chaos]:
            thread.join(timeout=max(0, deadline - time.monotonic()) + 180)
        self.client_errors = errors + [f"{t.name} did not stop" for t in threads if t.is_alive()]
        self.event(f"traffic over: {len(self.ledger.records)} requests")

    def drain(self) -> dict:
        """Give the worker a moment: the sweep (what beat runs every minute) takes up what
        the outage lost, then wait until no push is in progress, at most DRAIN_SECONDS."""
        self.procs.run(["manage.py", "shell", "-c", SWEEP], self.app_env, "sweep")
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            time.sleep(5)
            summary = verdicts.outbox_summary(self.dsn)
            busy = sum(n for _, status, n in summary["counts"] if status == "in_progress")
            if not busy or time.monotonic() > deadline:
                self.event(f"outbox: {busy} pushes in progress after the drain")
                return summary

    def main(self) -> int:
        signal.signal(signal.SIGTERM, _interrupt)
        # A watchdog: whatever hangs, the run ends (and its processes with it).
        limit = self.seconds + 900
        watchdog = threading.Timer(limit, lambda: os.kill(os.getpid(), signal.SIGINT))
        watchdog.daemon = True
        watchdog.start()
        try:
            log(self.t0, f"run {self.run_id}: logs in {self.run_dir}")
            seed = self.setup()
            sampler = threading.Thread(target=self.sample, daemon=True)
            sampler.start()
            self.traffic(seed)
            self.stop_sampling.set()
            self.restarts = self.procs.worker_restarts()
            alive = verdicts.Check(
                "every process ran to the end (gunicorn, Celery worker, sandbox, Redis)",
                not self.deaths and not self.restarts,
                f"{len(self.deaths)} exited",
                [f"{name} exited with status {code}" for name, code in self.deaths.items()]
                + self.restarts,
            )
            outbox = self.drain()
            self.procs.stop_all()
            soak_report.save_raw(self)
            checks = verdicts.response_checks(self.ledger) + verdicts.database_checks(
                self.dsn, self.ledger
            )
            checks.append(alive)
            checks.append(soak_report.rss_check(self))
            checks.append(verdicts.outbox_check(outbox))
            if self.client_errors:
                checks.append(
                    verdicts.Check("clients ran to the end", False, "", self.client_errors)
                )
            soak_report.report(self, checks, outbox)
            failed = [c.name for c in checks if not c.ok]
            print(f"\n{'FAILED: ' + '; '.join(failed) if failed else 'All checks passed.'}")
            return 1 if failed else 0
        except KeyboardInterrupt:
            log(self.t0, "interrupted: stopping everything")
            return 2
        finally:
            watchdog.cancel()
            self.stop_sampling.set()
            self.procs.stop_all()
            try:
                self.drop_database()
            except psycopg.Error as exc:
                log(self.t0, f"could not drop {DB_NAME}: {exc}")
            self.procs.cleanup()


if __name__ == "__main__":
    sys.exit(Soak().main())
