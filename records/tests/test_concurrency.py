"""Finalizes at the same moment, on PostgreSQL: numbers 1..N, no gap, no duplicate.

Real threads, each with its own database connection, against committed data
(`transaction=True`). The invoice row and the year's counter row are locked with
SELECT ... FOR UPDATE, so finalizes queue on the counter. SQLite serializes all writes
anyway and has no row locks to prove, so there the test is skipped; CI runs PostgreSQL.
"""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse

from records import services
from records.models import ChangeRecord, Interface, Invoice, NumberSequence
from records.tests.factories import ContactFactory, InvoiceFactory

pytestmark = pytest.mark.django_db(transaction=True)
N = 8


def run_together(functions) -> list:
    """Start all at once (a barrier); each thread closes its own connection."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serializes writes (CI: PostgreSQL)")


def test_parallel_finalizes_give_1_to_n(postgresql_only):
    contact = ContactFactory()
    drafts = [InvoiceFactory(contact=contact, issue_date=dt.date(2026, 5, 1)) for _ in range(N)]

    def finalize(invoice):
        return lambda: services.invoice_finalize(invoice=invoice, by=None, via=Interface.API).number

    results = run_together([finalize(invoice) for invoice in drafts])

    expected = [f"2026-{n:04d}" for n in range(1, N + 1)]
    assert sorted(results) == expected, results
    assert sorted(Invoice.objects.values_list("number", flat=True)) == expected
    assert NumberSequence.objects.get(key="invoice:2026").last_value == N


def test_the_same_draft_finalized_twice_at_once_gets_one_number(postgresql_only, role_client):
    invoice = InvoiceFactory(issue_date=dt.date(2026, 5, 1))
    clients = [role_client("employee") for _ in range(2)]
    url = reverse("invoices-finalize", args=[invoice.pk])

    statuses = run_together([lambda c=c: c.post(url).status_code for c in clients])

    assert sorted(statuses) == [200, 409]
    invoice.refresh_from_db()
    assert invoice.number == "2026-0001"
    assert NumberSequence.objects.get(key="invoice:2026").last_value == 1
    assert ChangeRecord.objects.filter(object_id=invoice.pk, action="finalize").count() == 1


def test_concurrent_patches_with_one_version_one_wins(postgresql_only, role_client):
    invoice = InvoiceFactory()
    clients = [role_client("employee") for _ in range(2)]
    url = reverse("invoices-detail", args=[invoice.pk])

    def patch(client, notes):
        return lambda: client.patch(url, {"notes": notes}, HTTP_IF_MATCH='"1"').status_code

    statuses = run_together([patch(clients[0], "first"), patch(clients[1], "second")])

    assert sorted(statuses) == [200, 412]
    invoice.refresh_from_db()
    assert invoice.version == 2
    assert invoice.notes == ("first" if statuses[0] == 200 else "second")
