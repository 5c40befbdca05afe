"""`project.db.bulk`: each function's PostgreSQL statement and its ORM branch, both run
against PostgreSQL on the same input, leave the same rows (and return the same)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
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
    NumberSequence,
    Payment,
    PaymentMethod,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

STAMPS = {"created_at", "updated_at"}


def both(run):
    """`run(native)` for the native and the ORM branch, each rolled back after."""
    results = []
    for native in (True, False):
        with transaction.atomic():
            results.append(run(native))
            transaction.set_rollback(True)
    return results


def rows(model, *, exclude=(), **filters) -> list[dict]:
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
    return sorted(model.objects.filter(**filters).values(*names), key=str)


def contacts(n: int) -> list[Contact]:
    return [
        Contact(
            id=uuid.UUID(int=i + 1),
            customer_number=f"B-{i:03d}",
            company_name=f"Company {i}" if i % 2 else "",
            first_name="Ann",
            last_name=f"Smit {i}",
            email=f"c{i}@example.com",
            country="NL",
        )
        for i in range(n)
    ]


@pytest.fixture
def invoice():
    contact = Contact.objects.create(customer_number="INV-1", company_name="Payer B.V.")
    return Invoice.objects.create(
        contact=contact,
        issue_date=dt.date(2026, 3, 1),
        due_date=dt.date(2026, 3, 31),
        status=InvoiceStatus.OPEN,
        number="2026-0001",
        total=Decimal("121.00"),
        tax_breakdown=[{"percentage": "21.00", "base": "100.00", "tax": "21.00"}],
    )


def test_insert_writes_the_rows_bulk_create_writes():
    def run(native):
        objs = contacts(5)
        bulk.insert(Contact, objs, native=native)
        stamped = all(o.created_at and o.updated_at and not o._state.adding for o in objs)
        stored = Contact.objects.filter(pk__in=[o.pk for o in objs])
        same_stamps = {(o.pk, o.created_at) for o in objs} == set(
            stored.values_list("pk", "created_at")
        )
        return rows(Contact, exclude=STAMPS), stamped, same_stamps

    native, orm = both(run)
    assert native == orm
    assert len(native[0]) == 5
    assert native[1:] == (True, True)


def test_insert_with_json_choices_decimals_dates_and_an_auto_key(invoice, make_user):
    user = make_user(role="employee")
    content_type = ContentType.objects.get_for_model(Invoice)

    def run(native):
        payments = [
            Payment(
                invoice=invoice,
                amount=Decimal(f"{i}.50"),
                date=dt.date(2026, 3, i + 1),
                method=PaymentMethod.BANK_TRANSFER,
                reference=f"ref {i}",
                created_by=user,
            )
            for i in range(1, 4)
        ]
        history = [
            ChangeRecord(
                content_type=content_type,
                object_id=invoice.pk,
                action=ChangeAction.PAYMENT,
                actor=user if i else None,
                via=Interface.SYNC,
                changes={"total_paid": ["0.00", f"{i}.50"], "nested": [None, {"a": [1, None]}]},
            )
            for i in range(3)
        ]
        bulk.insert(Payment, payments, native=native)
        bulk.insert(ChangeRecord, history, native=native)
        return (
            rows(Payment, exclude={"id", "created_at"}),
            rows(ChangeRecord, exclude={"id", "created_at"}, object_id=invoice.pk),
        )

    native, orm = both(run)
    assert native == orm
    assert len(native[0]) == 3
    assert len(native[1]) == 3
    assert native[1][2]["changes"]["nested"] == [None, {"a": [1, None]}]


def test_update_writes_the_fields_bulk_update_writes(invoice):
    existing = contacts(4)
    Contact.objects.bulk_create(existing)
    gone = Contact(id=uuid.uuid4(), customer_number="GONE", company_name="Gone")

    def run(native):
        objs = list(Contact.objects.filter(pk__in=[o.pk for o in existing]).order_by("pk"))
        for i, obj in enumerate(objs):
            obj.company_name = f"Renamed {i}"
            obj.country = "" if i % 2 else "BE"
            obj.version += i
            obj.updated_at = timezone.now()
        count = bulk.update(
            Contact,
            [*objs, gone],
            ["company_name", "country", "version", "updated_at"],
            native=native,
        )
        return count, rows(Contact, exclude={"updated_at"}, pk__in=[o.pk for o in objs])

    native, orm = both(run)
    assert native == orm
    assert native[0] == 4


def test_update_of_invoices_money_states_and_empty_timestamps(invoice):
    missing = Invoice(pk=uuid.uuid4())

    def run(native):
        obj = Invoice.objects.get(pk=invoice.pk)
        obj.total_paid = Decimal("121.00")
        obj.status = InvoiceStatus.PAID
        obj.paid_at = timezone.now().replace(microsecond=123456)
        obj.accounting_status = "sent"
        obj.accounting_remote_number = "MB-7"
        obj.accounting_synced_at = None
        missing.accounting_status = "sent"
        count = bulk.update(
            Invoice,
            [obj, missing],
            [
                "total_paid",
                "status",
                "paid_at",
                "accounting_status",
                "accounting_remote_number",
                "accounting_synced_at",
            ],
            native=native,
        )
        return count, rows(Invoice, pk=invoice.pk)

    native, orm = both(run)
    assert native == orm
    assert native[0] == 1


def test_upsert_inserts_and_updates_as_bulk_create_with_update_conflicts():
    conn = Connection.objects.create(
        provider="moneybird", name="Books", base_url="https://books.test", administration_id="1"
    )
    kept = uuid.uuid4()
    ExternalLink.objects.create(
        connection=conn,
        kind=RemoteKind.CONTACT,
        local_id=kept,
        remote_id="R-1",
        remote_version=1,
        local_version=1,
        synced_at=timezone.now(),
        remote_deleted_at=timezone.now(),
    )
    now = timezone.now()
    names = [
        "connection_id",
        "kind",
        "local_id",
        "remote_id",
        "remote_version",
        "local_version",
        "synced_at",
        "remote_deleted_at",
    ]
    values = [
        (conn.pk, RemoteKind.CONTACT, kept, "R-1", 2, 3, now, None),
        (conn.pk, RemoteKind.CONTACT, uuid.UUID(int=7), "R-2", None, None, now, None),
        (conn.pk, RemoteKind.INVOICE, uuid.UUID(int=8), "R-1", 2**62, 1, now, None),
    ]
    update = ["local_id", "remote_version", "local_version", "synced_at", "remote_deleted_at"]

    def run(native):
        bulk.upsert(
            ExternalLink,
            names,
            values,
            unique=["connection", "kind", "remote_id"],
            update=update,
            native=native,
        )
        return rows(ExternalLink, exclude={"id"}, connection=conn)

    native, orm = both(run)
    assert native == orm
    assert len(native) == 3
    assert [r["remote_deleted_at"] for r in native] == [None, None, None]


def test_upsert_on_a_plain_unique_key():
    NumberSequence.objects.create(key="taken", last_value=5)

    def run(native):
        bulk.upsert(
            NumberSequence,
            ["key", "last_value"],
            [("taken", 9), ("new", 1)],
            unique=["key"],
            update=["last_value"],
            native=native,
        )
        return rows(NumberSequence, exclude={"id"})

    native, orm = both(run)
    assert native == orm == [{"key": "new", "last_value": 1}, {"key": "taken", "last_value": 9}]


def test_select_returns_the_rows_a_filter_returns():
    conn = Connection.objects.create(
        provider="moneybird", name="Books", base_url="https://books.test", administration_id="1"
    )
    other = Connection.objects.create(
        provider="moneybird", name="Other", base_url="https://other.test", administration_id="2"
    )
    now = timezone.now()
    for connection_, kind, remote_id in [
        (conn, RemoteKind.CONTACT, "A"),
        (conn, RemoteKind.CONTACT, "B"),
        (conn, RemoteKind.INVOICE, "A"),
        (other, RemoteKind.CONTACT, "C"),
    ]:
        ExternalLink.objects.create(
            connection=connection_,
            kind=kind,
            local_id=uuid.uuid4(),
            remote_id=remote_id,
            remote_version=len(remote_id),
            synced_at=now,
        )
    names = ["remote_id", "local_id", "remote_version", "local_version", "remote_deleted_at"]

    def run(native):
        found = bulk.select(
            ExternalLink,
            names,
            key="remote_id",
            values=["A", "B", "C", "missing"],
            where={"connection": conn, "kind": RemoteKind.CONTACT},
            native=native,
        )
        empty = bulk.select(ExternalLink, names, key="remote_id", values=[], native=native)
        return sorted(found), empty

    native, orm = both(run)
    assert native == orm
    assert [row[0] for row in native[0]] == ["A", "B"]


def test_select_by_a_unique_key_with_no_condition():
    Contact.objects.bulk_create(contacts(3))

    def run(native):
        found = bulk.select(
            Contact,
            ["customer_number", "id", "company_name"],
            key="customer_number",
            values=["B-002", "B-000", "B-009"],
            native=native,
        )
        return sorted(found)

    native, orm = both(run)
    assert native == orm
    assert [row[0] for row in native] == ["B-000", "B-002"]
