"""Pull benchmark: 50k contacts and 20k sales invoices from the sandbox (rate limit off)
through a real Celery worker, from the trigger to the last committed batch, next to a
raw COPY of the same rows into a table in the same run.

The 20k invoices are linked to open invoices here first (as if pushed), so the pull
fetches them all and registers the 6,667 payments made there through
`records.services.payment_register`. Goals: at most 8x the COPY time (>= 10k records/s);
a second sync with nothing changed at most 0.4 of the first; requests at the minimum
the API allows (the listings plus one fetch per 100 changed records).

Destructive for the records and integrations tables: runs only on a database whose
name contains "bench": its own `ledgerbridge_bench_sync` next to the bench database, with
its own Redis db (`BENCH_SYNC_REDIS_URL`, default db 13), in a child process.
"""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from decimal import Decimal

from bench.harness import BASE_DIR, Context, Row

CONTACTS = 50_000
INVOICES = 20_000
TABLES = [
    "records_changerecord",
    "records_payment",
    "records_invoiceline",
    "records_invoice",
    "records_contact",
    "records_product",
    "integrations_externallink",
    "integrations_syncrun",
    "integrations_syncconflict",
    "integrations_outboxitem",
    "integrations_connectionissue",
    "integrations_connection",
]
SYNC_ENV = {"INTEGRATIONS_ALLOW_LOCAL_URLS": "true", "INTEGRATIONS_REQUEST_BUDGET": "1000000"}


def _setup_django() -> None:
    import django

    os.environ.update(SYNC_ENV)
    django.setup()
    from django.conf import settings

    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = True  # settings may be loaded already


def _start_worker(env: dict) -> subprocess.Popen:
    from project.celery import app

    log = open(BASE_DIR / "var" / "bench-sync-worker.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return proc
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("the bench worker did not start; see var/bench-sync-worker.log")


def _queue_empty(timeout: float = 600) -> None:
    """Wait until the worker took every queued task (the paid emails of the first sync)."""
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    deadline = time.monotonic() + timeout
    while redis.llen("celery") and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)


def _truncate() -> None:
    from django.db import connection

    if "bench" not in connection.settings_dict["NAME"]:
        raise SystemExit(
            f"bench_sync empties tables; refusing on {connection.settings_dict['NAME']}"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        cursor.execute("DROP TABLE IF EXISTS bench_sync_copy")


def _link_invoices(server, connection) -> None:
    """Open invoices here for the sandbox's invoices, linked as the push leaves them."""
    from django.utils import timezone

    from integrations.models import ExternalLink, RemoteKind
    from records import services
    from records.models import Interface, Invoice, InvoiceStatus

    admin = server.store.administrations[server.administration_id]
    contact = services.contact_create(
        company_name="Bench invoices B.V.", customer_number="BENCH-1", by=None, via=Interface.SYSTEM
    )
    today, now = dt.date.today(), timezone.now()
    invoices, links = [], []
    for n, (remote_id, record) in enumerate(admin.invoices.items()):
        totals = server.store.invoice_totals(admin, record)
        invoice = Invoice(
            contact=contact,
            issue_date=today,
            due_date=today + dt.timedelta(days=14),
            status=InvoiceStatus.OPEN,
            number=f"BENCH-{n:06d}",
            subtotal=totals["excl"],
            tax_total=totals["incl"] - totals["excl"],
            total=totals["incl"],
            total_paid=Decimal(0),
            finalized_at=now,
        )
        invoices.append(invoice)
        links.append(
            ExternalLink(
                connection=connection,
                kind=RemoteKind.INVOICE,
                local_id=invoice.pk,
                remote_id=remote_id,
                remote_version=0,
                local_version=1,
                synced_at=now,
            )
        )
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    ExternalLink.objects.bulk_create(links, batch_size=2000)


def _copy_seconds(server) -> float:
    """COPY the same 70k rows (as the sandbox sends them) into a plain table."""
    from django.db import connection, transaction

    admin = server.store.administrations[server.administration_id]
    rows = [
        (c["id"], "contact", c["version"], c["customer_id"], c["company_name"], None)
        for c in admin.contacts.values()
    ]
    rows += [
        (
            i["id"],
            "invoice",
            i["version"],
            i["invoice_id"],
            i["state"],
            server.store.invoice_totals(admin, i)["incl"],
        )
        for i in admin.invoices.values()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_sync_copy (remote_id text, kind text, version bigint, "
            "key text, name text, amount numeric(14, 2))"
        )
    start = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy("COPY bench_sync_copy FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - start


def _fetch_only(api_url: str, administration_id: str, token: str) -> float:
    """The provider's share as a reference: the two synchronization listings and every
    fetch of 100 the first sync makes, through our client, with no writes (in its own
    process, as the worker is, so it does not share the sandbox's interpreter)."""
    _setup_django()
    from django.conf import settings

    from integrations.providers.budget import RequestBudget, connection_key
    from integrations.providers.moneybird import MoneybirdClient

    key = connection_key(api_url, administration_id)
    budget = RequestBudget(key, limit=settings.INTEGRATIONS_REQUEST_BUDGET)  # as the worker's
    start = time.perf_counter()
    with MoneybirdClient(base_url=api_url, administration_id=administration_id, token=token,
                         budget=budget) as client:  # fmt: skip
        for versions, fetch in (
            (client.list_contact_versions(), client.fetch_contacts),
            (client.list_invoice_versions(), client.fetch_invoices),
        ):
            ids = [v.id for v in versions]
            for begin in range(0, len(ids), 100):
                fetch(ids[begin : begin + 100])
    return time.perf_counter() - start


def _fetch_only_seconds(env: dict, server, token: str) -> float:
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_sync", "--fetch-only", server.api_url,
         server.administration_id, token],
        cwd=BASE_DIR, env=env, check=True, stdout=subprocess.PIPE,
    )  # fmt: skip
    return float(child.stdout.decode().strip().splitlines()[-1])


def _sync(connection) -> tuple[float, object]:
    from integrations.models import SyncRun
    from integrations.services import sync_run_start

    start = time.perf_counter()
    run = sync_run_start(connection=connection)
    while True:
        run = SyncRun.objects.get(pk=run.pk)
        if run.finished_at is not None:
            break
        time.sleep(0.05)
    return time.perf_counter() - start, run


class Timing:
    """A Row-compatible result: the table shows records per second as `req/s`."""

    def __init__(self, seconds: float, records: int, requests: int = 0):
        self.seconds, self.requests, self.records = seconds, requests, records
        self.rps = records / seconds if seconds else 0.0
        self.p50 = seconds * 1000
        self.p99 = seconds * 1000
        self.queries_per_request = float(requests)
        self.errors = 0


def _measure(env: dict) -> dict:
    """In the child process: set up, COPY, sync twice; the figures as a dict."""
    _setup_django()
    from integrations.models import SyncRunStatus
    from integrations.providers.budget import RequestBudget, connection_key
    from integrations.services import connection_create
    from sandbox import SandboxControl, SandboxServer

    token = "bench-sync-token"
    server = SandboxServer(token=token, rate_limit=False).start()
    worker = None
    try:
        control = SandboxControl(server.base_url)
        control.reset(seed="empty")
        control.seed(contacts=CONTACTS, sales_invoices=INVOICES)
        _truncate()
        connection = connection_create(
            name="Bench sandbox",
            base_url=server.api_url,
            administration_id=server.administration_id,
            api_token=token,
        )
        RequestBudget(connection_key(connection.base_url, connection.administration_id)).clear()
        _link_invoices(server, connection)
        copy = _copy_seconds(server)
        worker = _start_worker(env)
        control.clear_requests()
        first_s, first = _sync(connection)
        first_requests = len(control.requests())
        assert first.status == SyncRunStatus.SUCCEEDED, first.errors[:5]
        _queue_empty()
        control.clear_requests()
        second_s, second = _sync(connection)
        second_requests = len(control.requests())
        assert second.status == SyncRunStatus.SUCCEEDED, second.errors[:5]
        fetch_only = _fetch_only_seconds(env, server, token)
        control.close()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        server.stop()
    return {
        "copy": copy,
        "fetch_only": fetch_only,
        "first": first_s,
        "first_requests": first_requests,
        "first_counts": [first.created_count, first.updated_count, first.failed_count],
        "second": second_s,
        "second_requests": second_requests,
        "second_counts": [second.created_count, second.updated_count, second.failed_count],
    }


def run(ctx: Context, seconds: float) -> list[tuple[str, list[Row]]]:
    """Runs in a child process on its own database and Redis db, so other suites (and
    other benchmarks running at the same time) neither see nor disturb its rows and queue."""
    from bench.run import ensure_services

    base = ctx.env["DATABASE_URL"].rsplit("/", 1)[0]
    env = dict(
        ctx.env,
        **SYNC_ENV,
        DATABASE_URL=f"{base}/ledgerbridge_bench_sync",
        REDIS_URL=os.environ.get("BENCH_SYNC_REDIS_URL", "redis://127.0.0.1:6379/13"),
        DJANGO_SETTINGS_MODULE="bench.settings",
    )
    ensure_services(env)
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_sync"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
    )
    figures = json.loads(child.stdout.decode().strip().splitlines()[-1])
    copy, first_s, second_s = figures["copy"], figures["first"], figures["second"]
    records = CONTACTS + INVOICES
    minimum = 4 + -(-CONTACTS // 100) + -(-INVOICES // 100)  # 2 lists, 2 listings, fetches
    created, updated, failed = figures["first_counts"]
    title = (
        f"Sync: {CONTACTS:,} contacts + {INVOICES:,} invoices (req/s = records/s; p50 = "
        "wall ms; queries/req = requests to the provider)"
    )
    rows = [
        Row("raw COPY of the same rows", Timing(copy, records)),
        Row(
            "first sync (trigger to last batch)",
            Timing(first_s, records, figures["first_requests"]),
            note=f"{first_s / copy:.1f}x the COPY time (goal <= 8x); "
            f"{figures['first_requests']} requests (minimum {minimum}); "
            f"created {created}, updated {updated}, failed {failed}",
        ),
        Row(
            "fetch only (client + sandbox, no writes)",
            Timing(figures["fetch_only"], records, minimum - 2),
            note=f"{figures['fetch_only'] / first_s:.2f} of the first sync: the sandbox's "
            "and the client's share, for reference (the sync fetches the next batch while "
            "it writes one)",
        ),
        Row(
            "second sync, nothing changed",
            Timing(second_s, records, figures["second_requests"]),
            note=f"{second_s / first_s:.2f} of the first (goal <= 0.4); "
            f"{figures['second_requests']} requests (minimum 4); "
            f"created, updated, failed: {figures['second_counts']}",
        ),
    ]
    return [(title, rows)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fetch-only"]:
        print(_fetch_only(*sys.argv[2:5]))
    else:
        print(json.dumps(_measure(dict(os.environ))))
