"""`make bench`: run every `bench/bench_*.py` suite against PostgreSQL and Redis.

    python bench/run.py [--only web] [--seconds 5]

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, or their default local ports);
uses its own database `ledgerbridge_bench` and Redis db 14 unless told otherwise.
"""

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.harness import Context, print_table  # noqa: E402
from project.devservices import _host_port, tcp_reachable  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ledgerbridge_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def bench_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-key-" + "x" * 40,
        # A fixed key: bench data is throwaway, and every bench process must decrypt alike.
        FIELD_ENCRYPTION_KEYS=os.environ.get("FIELD_ENCRYPTION_KEYS")
        or "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def ensure_services(env: dict) -> None:
    for name, url, port in (("PostgreSQL", env["DATABASE_URL"], 5432),
                            ("Redis", env["REDIS_URL"], 6379)):  # fmt: skip
        host, port = _host_port(url, port)
        if not tcp_reachable(host, port):
            raise SystemExit(f"make bench needs {name} at {host}:{port} ({url})")
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(env["DATABASE_URL"])
    dbname = parsed.path.lstrip("/")
    admin_dsn = env["DATABASE_URL"].replace(parsed.path, "/postgres", 1)
    admin_dsn = admin_dsn.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                   cwd=BASE_DIR, env=env, check=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="suite name, e.g. web (repeatable)")
    parser.add_argument("--seconds", type=float, default=5.0, help="load duration per row")
    args = parser.parse_args()

    env = bench_env()
    os.environ.update(env)
    ensure_services(env)
    suites = sorted(p.stem.removeprefix("bench_") for p in (BASE_DIR / "bench").glob("bench_*.py"))
    if args.only:
        suites = [s for s in suites if s in args.only]
    print(f"# Ledgerbridge benchmarks ({os.cpu_count()} cores, {args.seconds:.0f}s per row)")
    ctx = Context(env=env)
    for suite in suites:
        module = importlib.import_module(f"bench.bench_{suite}")
        for title, rows in module.run(ctx, args.seconds):
            print_table(title, rows)


if __name__ == "__main__":
    main()
