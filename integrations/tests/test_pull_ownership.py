"""Who owns what when pulling: a contact changed on both sides becomes a conflict; a
payment registered in Moneybird pays our invoice through records' payment service; an
invoice written off there is cancelled here."""

import datetime as dt
from decimal import Decimal

import pytest

from integrations.models import ExternalLink, RemoteKind, SyncConflict, SyncRunStatus
from integrations.providers.base import InvoiceData, InvoiceLine
from integrations.providers.moneybird import MoneybirdClient
from integrations.services import sync_conflict_resolve
from integrations.services.links import link_set
from records import services as records
from records.models import ChangeAction, ChangeRecord, Contact, Interface, InvoiceStatus
from records.tests.factories import InvoiceFactory, LineFactory, TaxRateFactory

from .pulling import api_calls, sync

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker_process"),
]


def test_a_contact_changed_on_both_sides_is_a_conflict_and_neither_side_is_overwritten(
    sandbox, connection
):
    assert sync(connection).status == SyncRunStatus.SUCCEEDED
    contact = Contact.objects.get(customer_number="1")
    link = ExternalLink.objects.get(
        connection=connection, kind=RemoteKind.CONTACT, local_id=contact.pk
    )
    records.contact_update(contact=contact, city="Utrecht", by=None, via=Interface.API)
    remote = sandbox.control.person_edit_contact(link.remote_id, city="Haarlem")
    sandbox.control.clear_requests()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED
    assert (run.created_count, run.updated_count, run.failed_count) == (0, 0, 0)
    assert [e["kind"] for e in run.errors] == ["conflict"]
    conflict = SyncConflict.objects.get()
    assert (conflict.connection_id, conflict.kind, conflict.local_id, conflict.remote_id) == (
        connection.pk,
        RemoteKind.CONTACT,
        contact.pk,
        link.remote_id,
    )
    assert conflict.local_values["city"] == "Utrecht"
    assert conflict.remote_values["city"] == "Haarlem"
    assert Contact.objects.get(pk=contact.pk).city == "Utrecht"  # ours stays
    assert all(
        method == "GET" or path.endswith("synchronization.json")
        for method, path in api_calls(sandbox)
    )
    theirs = MoneybirdClient(
        base_url=sandbox.api_url, administration_id=sandbox.administration_id, token=sandbox.token
    ).fetch_contacts([link.remote_id])[0]
    assert (theirs.city, theirs.version) == ("Haarlem", remote["version"])  # theirs too
    link.refresh_from_db()
    assert link.remote_version != remote["version"]  # not taken as seen

    # A second sync records no second conflict; once a person resolves it, theirs is taken.
    assert sync(connection).status == SyncRunStatus.SUCCEEDED
    assert SyncConflict.objects.count() == 1
    sync_conflict_resolve(conflict=conflict, by=None)
    assert sync(connection).updated_count == 1
    assert Contact.objects.get(pk=contact.pk).city == "Haarlem"


def pushed_and_sent(sandbox, connection, invoice, rate):
    """The invoice as the push leaves it: created and sent in Moneybird, both linked."""
    with MoneybirdClient(
        base_url=sandbox.api_url, administration_id=sandbox.administration_id, token=sandbox.token
    ) as client:
        remote_rate = next(r for r in client.list_tax_rates() if r.percentage == 21)
        remote_contact = client.find_contact("1")
        created = client.create_invoice(
            InvoiceData(
                contact_id=remote_contact.id,
                reference=str(invoice.pk),
                invoice_date=invoice.issue_date,
                lines=(
                    InvoiceLine(
                        description="Work",
                        quantity=Decimal(1),
                        unit_price=Decimal("100.00"),
                        tax_rate_id=remote_rate.id,
                    ),
                ),
            )
        )
        sent = client.send_invoice(created.id)
    link_set(
        connection=connection,
        kind=RemoteKind.INVOICE,
        local_id=invoice.pk,
        remote_id=sent.id,
        remote_version=sent.version,
        local_version=invoice.version,
    )
    link_set(
        connection=connection,
        kind=RemoteKind.TAX_RATE,
        local_id=rate.pk,
        remote_id=remote_rate.id,
        remote_version=None,
    )
    return sent


def test_a_payment_registered_in_moneybird_pays_the_invoice_here(sandbox, connection):
    rate = TaxRateFactory(percentage=21)
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00", rate=21)], finalize=True)
    assert (invoice.status, invoice.total) == (InvoiceStatus.OPEN, Decimal("121.00"))
    sent = pushed_and_sent(sandbox, connection, invoice, rate)
    payment = sandbox.control.person_register_payment(
        sent.id, price="121.00", payment_date=dt.date.today().isoformat()
    )

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.errors
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.accounting_remote_number == sent.number  # Moneybird's number, kept
    assert invoice.total_paid == Decimal("121.00")
    [paid] = invoice.payments.all()
    assert (paid.amount, paid.date) == (Decimal("121.00"), dt.date.today())
    assert paid.reference == f"Moneybird payment {payment['id']}"
    change = ChangeRecord.objects.filter(object_id=invoice.pk, action=ChangeAction.PAYMENT).get()
    assert change.via == Interface.SYNC
    assert change.changes["status"] == [InvoiceStatus.OPEN, InvoiceStatus.PAID]
    assert (
        ExternalLink.objects.get(connection=connection, kind=RemoteKind.PAYMENT).local_id == paid.pk
    )
    assert run.updated_count == 1

    # Again with nothing changed: no second payment.
    again = sync(connection)
    assert (again.updated_count, again.failed_count) == (0, 0)
    assert invoice.payments.count() == 1


def test_an_invoice_written_off_in_moneybird_is_cancelled_here(sandbox, connection):
    rate = TaxRateFactory(percentage=21)
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00", rate=21)], finalize=True)
    sent = pushed_and_sent(sandbox, connection, invoice, rate)
    sandbox.control.person_mark_uncollectible(sent.id)

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.errors
    assert run.updated_count == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED
    assert invoice.accounting_remote_number == sent.number
    change = ChangeRecord.objects.filter(object_id=invoice.pk, action=ChangeAction.CANCEL).get()
    assert change.via == Interface.SYNC
    assert change.changes["status"] == [InvoiceStatus.OPEN, InvoiceStatus.CANCELLED]

    # Again with nothing changed: nothing more happens.
    again = sync(connection)
    assert (again.updated_count, again.failed_count) == (0, 0)
