"""Sync services: the pull's batch registration of payments, cancels and "paid there"."""

import datetime as dt
from decimal import Decimal

import pytest

from project import errors
from records import events, services
from records.models import ChangeAction, ChangeRecord, Interface, InvoiceStatus, Payment
from records.tests.factories import InvoiceFactory, LineFactory

pytestmark = pytest.mark.django_db
D = Decimal
PAID_ON = dt.date(2026, 2, 1)


def sync_row(invoice, *amounts, **flags):
    payments = [
        services.SyncPayment(amount=D(a), date=PAID_ON, reference=f"remote {a}") for a in amounts
    ]
    return services.SyncPayments(invoice=invoice, payments=payments, **flags)


def register(*rows):
    return services.payments_register_from_sync(rows=list(rows), by=None)


@pytest.fixture
def received():
    """The events sent while the test runs, as `(signal name, invoice number)`."""
    sent = []

    def receiver(signal_name):
        return lambda sender, invoice, **kwargs: sent.append((signal_name, invoice.number))

    handlers = {
        "payment_registered": receiver("payment_registered"),
        "invoice_paid": receiver("invoice_paid"),
    }
    for name, handler in handlers.items():
        getattr(events, name).connect(handler, weak=False)
    yield sent
    for name, handler in handlers.items():
        getattr(events, name).disconnect(handler)


def history(invoice) -> list[tuple]:
    records = ChangeRecord.objects.filter(object_id=invoice.pk).order_by("id")
    return [(r.action, r.via, r.changes.get("status")) for r in records]


def test_conflict_and_stale_version_are_the_project_errors():
    assert services.Conflict is errors.Conflict
    assert services.StaleVersion is errors.StaleVersion


def test_payments_register_as_payment_register_would(received, django_capture_on_commit_callbacks):
    invoice = InvoiceFactory(
        lines=[LineFactory(unit_price="100.00")], finalize=True
    )  # total 121.00

    with django_capture_on_commit_callbacks() as callbacks:
        [outcome] = register(sync_row(invoice, "21.00", "100.00", settle=True))

    invoice.refresh_from_db()
    assert outcome.action == services.SyncAction.UPDATED
    assert [p.amount for p in outcome.payments] == [D("21.00"), D("100.00")]
    assert (invoice.status, invoice.total_paid, invoice.version) == ("paid", D("121.00"), 4)
    assert invoice.paid_at is not None
    assert list(invoice.payments.values_list("amount", "reference")) == [
        (D("21.00"), "remote 21.00"),
        (D("100.00"), "remote 100.00"),
    ]
    assert history(invoice)[2:] == [
        (ChangeAction.PAYMENT, Interface.SYNC, None),
        (ChangeAction.PAYMENT, Interface.SYNC, ["open", "paid"]),
    ]
    assert received == [
        ("payment_registered", invoice.number),
        ("payment_registered", invoice.number),
        ("invoice_paid", invoice.number),
    ]
    assert len(callbacks) == 1  # one email task for the batch


def test_paid_there_but_due_here_fails_the_row_and_writes_nothing(received):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)
    other = InvoiceFactory(lines=[LineFactory(unit_price="10.00")], finalize=True)

    outcomes = register(sync_row(invoice, "21.00", settle=True), sync_row(other, "1.00"))

    assert [o.action for o in outcomes] == ["failed", "updated"]
    assert outcomes[0].errors == {"status": ["Paid there, but 100.00 is still due here."]}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_paid, invoice.version) == ("open", D("0.00"), 2)
    assert not Payment.objects.filter(invoice=invoice).exists()
    assert history(invoice)[-1] == (ChangeAction.FINALIZE, Interface.API, ["draft", "open"])
    assert received == [("payment_registered", other.number)]


def test_paid_there_without_payments_fails_too():
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)

    [outcome] = register(sync_row(invoice, settle=True))

    assert outcome.action == services.SyncAction.FAILED
    assert outcome.errors == {"status": ["Paid there, but 121.00 is still due here."]}


def test_uncollectible_there_cancels_an_open_invoice(received):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)

    [outcome] = register(sync_row(invoice, cancel=True))

    invoice.refresh_from_db()
    assert (outcome.action, outcome.payments) == (services.SyncAction.UPDATED, [])
    assert (invoice.status, invoice.version) == (InvoiceStatus.CANCELLED, 3)
    assert invoice.cancelled_at is not None
    assert history(invoice)[-1] == (ChangeAction.CANCEL, Interface.SYNC, ["open", "cancelled"])
    assert received == []


def test_uncollectible_with_payments_is_refused_as_invoice_cancel_refuses_it():
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)

    [outcome] = register(sync_row(invoice, "21.00", cancel=True))

    assert outcome.action == services.SyncAction.FAILED
    assert outcome.errors == {"status": ["An invoice with payments cannot be cancelled."]}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_paid, invoice.version) == ("open", D("0.00"), 2)
    assert not Payment.objects.filter(invoice=invoice).exists()


def test_uncollectible_leaves_an_invoice_that_is_not_open_alone():
    paid = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)
    register(sync_row(paid, "121.00"))
    paid.refresh_from_db()
    cancelled = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)
    services.invoice_cancel(invoice=cancelled, by=None, via=Interface.API)

    outcomes = register(sync_row(paid, cancel=True), sync_row(cancelled, cancel=True))

    assert [o.action for o in outcomes] == ["unchanged", "unchanged"]
    paid.refresh_from_db()
    assert (paid.status, paid.version) == (InvoiceStatus.PAID, 3)


def test_two_rows_of_one_invoice_see_each_other():
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="100.00")], finalize=True)

    outcomes = register(sync_row(invoice, "100.00"), sync_row(invoice, "21.00", settle=True))

    assert [o.action for o in outcomes] == ["updated", "updated"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_paid, invoice.version) == ("paid", D("121.00"), 4)
