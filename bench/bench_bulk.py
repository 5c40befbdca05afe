"""Bulk writes: each `project.db.bulk` statement against Django's own call on the same
rows (`bulk_create`, `bulk_update`, `bulk_create(update_conflicts=True)`, a filter with
`__in`), in this process, on the bench database.

    BENCH_BULK_ONLY=insert BENCH_BULK_REPEATS=41 make bench ARGS="--only bulk"

A batch is 500 rows: the most the pull writes in one transaction (5 fetched batches of
100). Each measurement runs in a savepoint that is rolled back, so every repetition
starts from the same rows; the two ways alternate (A, B, B, A, ...) so that load from
elsewhere on the machine falls on both alike. The table gives medians and the spread
(25th-75th percentile); "ratio" is Django's median over the hand-built one's. Where
Django's is within noise, `project.db.bulk` should use Django's and drop its statement.
"""

import datetime as dt
import os
import statistics
import time
import uuid
from decimal import Decimal

from bench.harness import Context

ROWS = 500
REPEATS = int(os.environ.get("BENCH_BULK_REPEATS", "21"))
ONLY = os.environ.get("BENCH_BULK_ONLY", "")  # run only the operations whose name has this


def _setup_django() -> None:
    import django

    django.setup()


def _cases():
    """(name, prepare) pairs: `prepare()` returns `(native_call, django_call)`, each
    taking no argument, built on fresh objects so neither reuses the other's work."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from integrations.models import Connection, ExternalLink, RemoteKind
    from project.db import bulk
    from records.models import (
        ChangeAction,
        ChangeRecord,
        Contact,
        Interface,
        Invoice,
        InvoiceStatus,
        Payment,
    )

    contact_names = [
        f.name
        for f in Contact._meta.concrete_fields
        if f.name not in {"id", "version", "created_at", "updated_at"}
    ]
    seed = [
        Contact(customer_number=f"BULK-{i:05d}", company_name=f"Bulk {i}", city="Delft")
        for i in range(ROWS)
    ]
    Contact.objects.bulk_create(seed)
    payer = seed[0]
    today = dt.date(2026, 3, 1)
    invoices = [
        Invoice(
            contact=payer,
            issue_date=today,
            due_date=today,
            status=InvoiceStatus.OPEN,
            number=f"BULK-{i:05d}",
            total=Decimal("121.00"),
        )
        for i in range(ROWS)
    ]
    Invoice.objects.bulk_create(invoices)
    conn = Connection.objects.create(
        provider="moneybird",
        name="Bulk bench",
        base_url="https://bulk.test",
        administration_id="bulk",
    )
    now = timezone.now()
    ExternalLink.objects.bulk_create(
        ExternalLink(
            connection=conn,
            kind=RemoteKind.CONTACT,
            local_id=uuid.uuid4(),
            remote_id=f"R{i:06d}",
            remote_version=1,
            local_version=1,
            synced_at=now,
        )
        for i in range(0, 2 * ROWS, 2)
    )
    content_type = ContentType.objects.get_for_model(Invoice)

    def new_contacts():
        return [
            Contact(
                customer_number=f"NEW-{i:05d}",
                company_name=f"New {i}",
                first_name="Ann",
                last_name="Smit",
                email=f"n{i}@example.com",
                phone="+31 15 123 4567",
                address_line1="Street 1",
                postal_code="2611 AA",
                city="Delft",
                country="NL",
            )
            for i in range(ROWS)
        ]

    def insert_contacts():
        a, b = new_contacts(), new_contacts()
        return (
            lambda: bulk.insert(Contact, a, native=True),
            lambda: Contact.objects.bulk_create(b, batch_size=ROWS),
        )

    def history():
        return [
            ChangeRecord(
                content_type=content_type,
                object_id=invoice.pk,
                action=ChangeAction.PAYMENT,
                via=Interface.SYNC,
                changes={
                    "payment": [None, {"id": str(uuid.uuid4()), "amount": "12.10"}],
                    "total_paid": ["0.00", "12.10"],
                },
            )
            for invoice in invoices
        ]

    def insert_history():
        a, b = history(), history()
        return (
            lambda: bulk.insert(ChangeRecord, a, native=True),
            lambda: ChangeRecord.objects.bulk_create(b, batch_size=ROWS),
        )

    def payments():
        return [
            Payment(
                invoice=invoice,
                amount=Decimal("12.10"),
                date=today,
                method="other",
                reference=f"Remote payment {i}",
            )
            for i, invoice in enumerate(invoices)
        ]

    def insert_payments():
        a, b = payments(), payments()
        return (
            lambda: bulk.insert(Payment, a, native=True),
            lambda: Payment.objects.bulk_create(b, batch_size=ROWS),
        )

    def changed_contacts():
        objs = list(Contact.objects.filter(pk__in=[c.pk for c in seed]))
        for obj in objs:
            obj.company_name += " (renamed)"
            obj.version += 1
            obj.updated_at = now
        return objs

    def update_contacts():
        a, b = changed_contacts(), changed_contacts()
        names = [*contact_names, "version", "updated_at"]
        return (
            lambda: bulk.update(Contact, a, names, native=True),
            lambda: Contact.objects.bulk_update(b, names, batch_size=ROWS),
        )

    def paid_invoices():
        objs = list(Invoice.objects.filter(pk__in=[i.pk for i in invoices]))
        for obj in objs:
            obj.total_paid = obj.total
            obj.status = InvoiceStatus.PAID
            obj.paid_at = now
            obj.version += 1
            obj.updated_at = now
        return objs

    def update_invoices():
        a, b = paid_invoices(), paid_invoices()
        names = ["total_paid", "status", "paid_at", "cancelled_at", "version", "updated_at"]
        return (
            lambda: bulk.update(Invoice, a, names, native=True),
            lambda: Invoice.objects.bulk_update(b, names, batch_size=ROWS),
        )

    def accounting_states():
        objs = []
        for i, invoice in enumerate(invoices):
            obj = Invoice(pk=invoice.pk)
            obj.accounting_status, obj.accounting_remote_id = "sent", f"R{i}"
            obj.accounting_remote_number, obj.accounting_synced_at = f"MB-{i}", now
            objs.append(obj)
        return objs

    def update_accounting():
        a, b = accounting_states(), accounting_states()
        names = [
            "accounting_remote_id",
            "accounting_remote_number",
            "accounting_status",
            "accounting_synced_at",
        ]
        return (
            lambda: bulk.update(Invoice, a, names, native=True),
            lambda: Invoice.objects.bulk_update(b, names, batch_size=ROWS),
        )

    link_names = [
        "connection_id",
        "kind",
        "local_id",
        "remote_id",
        "remote_version",
        "local_version",
        "synced_at",
        "remote_deleted_at",
    ]
    link_update = ["local_id", "remote_version", "local_version", "synced_at", "remote_deleted_at"]

    def upsert_links():
        # half of them exist (even numbers), half are new; as the pull's `links_save` has them
        values = [
            (conn.pk, RemoteKind.CONTACT, uuid.uuid4(), f"R{i:06d}", 2, 1, now, None)
            for i in range(ROWS)
        ]

        def django():
            objs = [ExternalLink(**dict(zip(link_names, row, strict=True))) for row in values]
            ExternalLink.objects.bulk_create(
                objs,
                batch_size=ROWS,
                update_conflicts=True,
                unique_fields=["connection", "kind", "remote_id"],
                update_fields=link_update,
            )

        return (
            lambda: bulk.upsert(
                ExternalLink,
                link_names,
                values,
                unique=["connection", "kind", "remote_id"],
                update=link_update,
                native=True,
            ),
            django,
        )

    def select_links():
        ids = [f"R{i:06d}" for i in range(ROWS)]
        names = ["remote_id", "local_id", "remote_version", "local_version", "remote_deleted_at"]
        where = {"connection": conn, "kind": RemoteKind.CONTACT}
        return (
            lambda: bulk.select(
                ExternalLink, names, key="remote_id", values=ids, where=where, native=True
            ),
            lambda: list(
                ExternalLink.objects.filter(**where, remote_id__in=ids).values_list(*names)
            ),
        )

    return [
        ("insert 500 contacts (bulk_create)", insert_contacts),
        ("insert 500 change records, JSON (bulk_create)", insert_history),
        ("insert 500 payments (bulk_create)", insert_payments),
        ("update 500 contacts, 15 fields (bulk_update)", update_contacts),
        ("update 500 invoices, 6 fields (bulk_update)", update_invoices),
        ("update 500 accounting states, 4 fields (bulk_update)", update_accounting),
        ("upsert 500 links, half new (bulk_create update_conflicts)", upsert_links),
        ("select 500 links by remote id (filter __in)", select_links),
    ]


def _timed(call) -> float:
    from django.db import transaction

    with transaction.atomic():
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed * 1000


def _spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4)
    return f"{q[0]:.1f}-{q[2]:.1f}"


def run(ctx: Context, seconds: float) -> list:
    _setup_django()
    from django.db import connection, transaction

    if "bench" not in connection.settings_dict["NAME"]:
        raise SystemExit(f"bench_bulk writes rows; refusing on {connection.settings_dict['NAME']}")
    print(f"\n## Bulk writes: project.db.bulk vs Django, {ROWS} rows, {REPEATS} runs each\n")
    print(
        "| operation (Django's call) | hand-built p50 ms (p25-p75) "
        "| Django p50 ms (p25-p75) | Django / hand-built |"
    )
    print("|---|---:|---:|---:|")
    with transaction.atomic():  # everything, the seed rows too, is rolled back at the end
        for name, prepare in _cases():
            if ONLY not in name:
                continue
            native, django = [], []
            for repeat in range(REPEATS):
                calls = prepare()
                order = [(native, calls[0]), (django, calls[1])]
                for results, call in order if repeat % 2 == 0 else reversed(order):
                    results.append(_timed(call))
            a, b = statistics.median(native), statistics.median(django)
            print(
                f"| {name} | {a:.1f} ({_spread(native)}) | {b:.1f} ({_spread(django)}) "
                f"| {b / a:.2f} |"
            )
        transaction.set_rollback(True)
    return []
