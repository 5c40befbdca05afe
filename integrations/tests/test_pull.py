"""Pull over real HTTP from the sandbox, run by a real worker: new, changed and deleted
records arrive; a sync with nothing changed writes nothing and asks only the lists."""

import threading
from decimal import Decimal

import pytest

from integrations import services
from integrations.models import ExternalLink, RemoteKind, SyncRunStatus
from integrations.providers.base import RemoteVersion
from integrations.sync import prefetch
from integrations.sync.pull import sync_run_pull
from records.models import ChangeRecord, Contact, Interface, Product
from records.tests.factories import ContactFactory, TaxRateFactory

from .pulling import api_calls, sync

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker_process"),
]

LISTS = [
    ("GET", "tax_rates.json"),
    ("GET", "products.json"),
    ("GET", "contacts/synchronization.json"),
    ("GET", "sales_invoices/synchronization.json"),
]


def links(connection, kind):
    return {
        link.remote_id: link
        for link in ExternalLink.objects.filter(connection=connection, kind=kind)
    }


def test_new_changed_and_deleted_records_arrive_and_a_quiet_sync_writes_nothing(
    sandbox, connection
):
    for percentage in (21, 9, 0):
        TaxRateFactory(percentage=percentage)
    known = ContactFactory(company_name="Old name B.V.", customer_number="2")  # Parkietje, by key
    sandbox.control.clear_requests()

    first = sync(connection)

    assert first.status == SyncRunStatus.SUCCEEDED, first.errors
    assert (first.progress_done, first.progress_total) == (8, 8)  # 3 rates, 2 products, 3 contacts
    assert (first.created_count, first.updated_count, first.deleted_count, first.failed_count) == (
        4,
        1,
        0,
        0,
    )
    contacts = {c.customer_number: c for c in Contact.objects.all()}
    assert sorted(contacts) == ["1", "2", "3"]
    assert contacts["2"].pk == known.pk
    assert contacts["2"].company_name == "Parkietje B.V."
    assert contacts["1"].company_name == "Foobar Holding B.V."
    assert (contacts["1"].city, contacts["1"].postal_code) == ("Amsterdam", "1234AB")
    assert (contacts["3"].first_name, contacts["3"].last_name) == ("Jan", "Janssen")
    contact_links = links(connection, RemoteKind.CONTACT)
    assert {link.local_id for link in contact_links.values()} == {c.pk for c in contacts.values()}
    assert all(
        link.local_version == contacts_by_pk.version
        for link in contact_links.values()
        for contacts_by_pk in [Contact.objects.get(pk=link.local_id)]
    )
    products = {p.sku: p for p in Product.objects.select_related("tax_rate")}
    assert sorted(products) == ["CONSULT-H", "SUPPORT-M"]
    assert products["CONSULT-H"].price == Decimal("95.00")
    assert products["CONSULT-H"].tax_rate.percentage == Decimal("21.00")
    assert len(links(connection, RemoteKind.TAX_RATE)) == 3
    assert set(ChangeRecord.objects.values_list("via", flat=True).distinct()) >= {Interface.SYNC}
    assert api_calls(sandbox) == [*LISTS, ("POST", "contacts/synchronization.json")]

    # Changed, deleted and new in Moneybird.
    ids = {link.local_id: rid for rid, link in contact_links.items()}
    sandbox.control.person_edit_contact(ids[contacts["1"].pk], city="Haarlem")
    sandbox.control.person_delete_contact(ids[contacts["3"].pk])
    sandbox.control.seed(contacts=2)
    sandbox.control.clear_requests()

    second = sync(connection)

    assert second.status == SyncRunStatus.SUCCEEDED, second.errors
    assert (
        second.created_count,
        second.updated_count,
        second.deleted_count,
        second.failed_count,
    ) == (2, 1, 1, 0)
    assert (second.progress_done, second.progress_total) == (4, 4)
    assert Contact.objects.get(pk=contacts["1"].pk).city == "Haarlem"
    assert Contact.objects.filter(pk=contacts["3"].pk).exists()  # soft: flagged, not erased
    gone = ExternalLink.objects.get(
        connection=connection, kind=RemoteKind.CONTACT, local_id=contacts["3"].pk
    )
    assert gone.remote_deleted_at is not None
    assert Contact.objects.count() == 5
    fetches = [c for c in api_calls(sandbox) if c[0] == "POST"]
    assert fetches == [("POST", "contacts/synchronization.json")]  # the 3 changed ids, once

    # Nothing changed: nothing written, only the lists asked.
    history = ChangeRecord.objects.count()
    link_rows = sorted(
        ExternalLink.objects.values_list(
            "id", "remote_version", "local_version", "synced_at", "remote_deleted_at"
        )
    )
    contact_rows = sorted(Contact.objects.values_list("id", "version", "updated_at"))
    sandbox.control.clear_requests()

    third = sync(connection)

    assert third.status == SyncRunStatus.SUCCEEDED
    assert (third.progress_done, third.progress_total) == (0, 0)
    assert (third.created_count, third.updated_count, third.deleted_count, third.failed_count) == (
        0,
        0,
        0,
        0,
    )
    assert ChangeRecord.objects.count() == history
    assert (
        sorted(
            ExternalLink.objects.values_list(
                "id", "remote_version", "local_version", "synced_at", "remote_deleted_at"
            )
        )
        == link_rows
    )
    assert sorted(Contact.objects.values_list("id", "version", "updated_at")) == contact_rows
    assert api_calls(sandbox) == LISTS


def test_batches_are_written_in_bulk_whatever_their_size(
    sandbox, connection, django_assert_max_num_queries
):
    """No per-row queries: 500 contacts in 5 batches of 100 take about 20 queries a
    batch (links, matches, one bulk insert each for contacts, history and links,
    progress), far fewer than one per contact."""
    for percentage in (21, 9, 0):
        TaxRateFactory(percentage=percentage)
    sandbox.control.seed(contacts=497)
    run = services.sync_run_create(connection=connection)

    with django_assert_max_num_queries(125):
        sync_run_pull(run_id=run.pk)  # in this process, to count its queries

    run.refresh_from_db()
    assert (run.status, run.created_count) == (SyncRunStatus.SUCCEEDED, 502)
    assert Contact.objects.count() == 500


def test_invoice_batches_with_payments_are_written_in_bulk(
    sandbox, connection, django_assert_max_num_queries
):
    """300 sent invoices linked here, every third paid in Moneybird: 3 batches of 100 and
    a constant number of queries a batch (the 100 payments are registered in bulk, with
    their history), not one set per paid invoice."""
    import datetime as dt

    from django.utils import timezone

    from records.models import Invoice, InvoiceStatus, Payment

    sandbox.control.seed(sales_invoices=300)
    admin = sandbox.server.store.administrations[sandbox.administration_id]
    contact = ContactFactory(company_name="Invoices B.V.", customer_number="INV-1")
    today, now = dt.date.today(), timezone.now()
    invoices, invoice_links = [], []
    for n, (remote_id, record) in enumerate(admin.invoices.items()):
        totals = sandbox.server.store.invoice_totals(admin, record)
        invoice = Invoice(
            contact=contact, issue_date=today, due_date=today + dt.timedelta(days=14),
            status=InvoiceStatus.OPEN, number=f"T-{n:04d}", subtotal=totals["excl"],
            tax_total=totals["incl"] - totals["excl"], total=totals["incl"], finalized_at=now,
        )  # fmt: skip
        invoices.append(invoice)
        invoice_links.append(
            ExternalLink(connection=connection, kind=RemoteKind.INVOICE, local_id=invoice.pk,
                         remote_id=remote_id, remote_version=0, local_version=1, synced_at=now)
        )  # fmt: skip
    Invoice.objects.bulk_create(invoices)
    ExternalLink.objects.bulk_create(invoice_links)
    paid_there = sum(1 for record in admin.invoices.values() if record["state"] == "paid")
    sandbox.control.clear_requests()
    run = services.sync_run_create(connection=connection)

    # About 107: the plan, rates, products, the 3 demo contacts, then ~25 a batch of 100
    # invoices; registering the payments one by one took 8 more queries each (800 here).
    with django_assert_max_num_queries(125):
        sync_run_pull(run_id=run.pk)  # in this process, to count its queries

    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED, run.errors
    assert paid_there == 100
    assert Invoice.objects.filter(status=InvoiceStatus.PAID).count() == paid_there
    assert Payment.objects.count() == paid_there
    assert ChangeRecord.objects.filter(action="payment", via=Interface.SYNC).count() == paid_there
    assert len(links(connection, RemoteKind.PAYMENT)) == paid_there
    fetches = [c for c in api_calls(sandbox) if c[0] == "POST"]
    assert fetches == [  # the 3 demo contacts, then the invoices
        ("POST", "contacts/synchronization.json"),
        *[("POST", "sales_invoices/synchronization.json")] * 3,
    ]


def test_fetched_groups_batches_and_raises_a_fetch_error_after_the_batches_before_it():
    """`prefetched` writes the batches fetched meanwhile together (at most WRITE_GROUP), in
    order; a failed fetch is raised only once the batches before it were handed out."""
    versions = [RemoteVersion(id=str(n), version=1) for n in range(prefetch.BATCH * 8)]
    release = threading.Event()

    def fetch(ids):
        if ids[0] == str(prefetch.BATCH * 6):
            raise RuntimeError("fetch failed")
        if ids[0] != "0":
            release.wait(5)  # the first group is the first batch alone
        return [f"remote {i}" for i in ids]

    seen = []

    def write_all():
        for batch, remote in prefetch.prefetched(fetch, versions):
            assert remote == [f"remote {v.id}" for v in batch]
            assert len(batch) <= prefetch.WRITE_GROUP * prefetch.BATCH
            seen.append([v.id for v in batch])
            release.set()

    with pytest.raises(RuntimeError, match="fetch failed"):
        write_all()
    assert seen[0] == [str(n) for n in range(prefetch.BATCH)]
    assert len(seen) < 6  # batches fetched meanwhile went together
    assert [i for batch in seen for i in batch] == [str(n) for n in range(prefetch.BATCH * 6)]
