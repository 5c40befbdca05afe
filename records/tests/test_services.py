"""Services: statuses, numbering, payments, history and events."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from records import events, services
from records.models import (
    ChangeRecord,
    Contact,
    Interface,
    Invoice,
    InvoiceStatus,
    NumberSequence,
    Payment,
)
from records.selectors import effective_status, invoice_list
from records.tests.factories import (
    ContactFactory,
    InvoiceFactory,
    LineFactory,
    ProductFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.django_db
API = Interface.API
D = Decimal


def pay(invoice, amount, **kwargs):
    return services.payment_register(
        invoice=invoice, amount=D(amount), date=dt.date(2026, 2, 1), method="bank_transfer",
        by=None, via=API, **kwargs,
    )  # fmt: skip


def test_finalize_numbers_per_issue_year_sequentially(make_user):
    user = make_user(role="employee")
    numbers = [
        InvoiceFactory(issue_date=dt.date(year, 6, 1), by=user, finalize=True).number
        for year in (2026, 2026, 2025, 2026, 2025)
    ]

    assert numbers == ["2026-0001", "2026-0002", "2025-0001", "2026-0003", "2025-0002"]
    assert NumberSequence.objects.get(key="invoice:2026").last_value == 3
    invoice = Invoice.objects.get(number="2026-0001")
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.finalized_at is not None


def test_draft_has_no_number_and_a_failed_finalize_leaves_no_gap():
    empty = InvoiceFactory(lines=[])
    with pytest.raises(ValidationError) as exc:
        services.invoice_finalize(invoice=empty, by=None, via=API)
    assert exc.value.message_dict == {
        "lines": ["An invoice needs at least one line to be finalized."]
    }

    def refuse(sender, invoice, **kwargs):
        raise RuntimeError("receiver failed")

    failing = InvoiceFactory()
    events.invoice_finalized.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            services.invoice_finalize(invoice=failing, by=None, via=API)
    finally:
        events.invoice_finalized.disconnect(refuse)

    failing.refresh_from_db()
    assert (failing.status, failing.number) == (InvoiceStatus.DRAFT, None)
    assert services.invoice_finalize(invoice=failing, by=None, via=API).number.endswith("-0001")


def test_finalize_sends_the_event_inside_the_transaction():
    received = []

    def receiver(sender, invoice, by, via, **kwargs):
        from django.db import connection

        received.append((invoice.number, invoice.status, via, connection.in_atomic_block))

    events.invoice_finalized.connect(receiver)
    try:
        invoice = InvoiceFactory(issue_date=dt.date(2026, 3, 1), finalize=True)
    finally:
        events.invoice_finalized.disconnect(receiver)

    assert received == [(invoice.number, InvoiceStatus.OPEN, API, True)]


def test_state_conflicts():
    invoice = InvoiceFactory(finalize=True)
    with pytest.raises(services.Conflict, match=r"^Only a draft invoice can be finalized\.$"):
        services.invoice_finalize(invoice=invoice, by=None, via=API)
    with pytest.raises(services.Conflict, match="Only draft invoices can be deleted"):
        services.invoice_delete(invoice=invoice, by=None, via=API)
    pay(invoice, "1.00")
    with pytest.raises(services.Conflict, match="with payments cannot be cancelled"):
        services.invoice_cancel(invoice=invoice, by=None, via=API)
    draft = InvoiceFactory()
    services.invoice_cancel(invoice=draft, by=None, via=API)
    with pytest.raises(services.Conflict, match=r"^A cancelled invoice cannot be cancelled\.$"):
        services.invoice_cancel(invoice=draft, by=None, via=API)


def test_partial_payments_then_paid():
    invoice = InvoiceFactory(
        lines=[LineFactory(unit_price="129.95")], finalize=True
    )  # total 157.24

    pay(invoice, "100.00")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_paid, invoice.total_due) == ("open", D("100"), D("57.24"))

    with pytest.raises(ValidationError) as exc:
        pay(invoice, "57.25")
    assert exc.value.message_dict == {"amount": ["The payment exceeds the amount due (57.24)."]}

    pay(invoice, "57.24", reference="second")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_due) == (InvoiceStatus.PAID, D("0.00"))
    assert invoice.paid_at is not None
    assert list(invoice.payments.values_list("amount", "reference")) == [
        (D("100.00"), ""), (D("57.24"), "second"),
    ]  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        pay(invoice, "0.01")
    assert exc.value.message_dict == {
        "invoice": ["Payments can be registered on open invoices only; this one is paid."]
    }


@pytest.mark.parametrize("state", ["draft", "cancelled"])
def test_no_payment_on_draft_or_cancelled(state):
    invoice = InvoiceFactory()
    if state == "cancelled":
        services.invoice_cancel(invoice=invoice, by=None, via=API)

    with pytest.raises(ValidationError) as exc:
        pay(invoice, "1.00")

    assert exc.value.message_dict == {
        "invoice": [f"Payments can be registered on open invoices only; this one is {state}."]
    }
    assert Payment.objects.count() == 0


def test_late_is_derived_from_open_and_past_due():
    today = dt.date.today()
    late = InvoiceFactory(
        issue_date=today - dt.timedelta(days=40), due_date=today - dt.timedelta(days=1),
        finalize=True,
    )  # fmt: skip
    due_today = InvoiceFactory(issue_date=today, due_date=today, finalize=True)
    past_draft = InvoiceFactory(
        issue_date=today - dt.timedelta(days=40), due_date=today - dt.timedelta(days=1)
    )

    shown = {row.pk: row.effective_status for row in invoice_list()}

    assert shown == {late.pk: "late", due_today.pk: "open", past_draft.pk: "draft"}
    assert Invoice.objects.get(pk=late.pk).status == "open"  # stored status stays open
    assert effective_status(Invoice.objects.get(pk=late.pk)) == "late"


def test_line_with_product_takes_its_title_price_and_rate():
    product = ProductFactory(sku="CONSULT", price="95.00", rate=9, title="Consulting")

    invoice = InvoiceFactory(lines=[{"product": product, "quantity": D("2")}])

    only = invoice.lines.get()
    assert (only.description, only.unit_price, only.tax_rate, only.amount) == (
        "Consulting", D("95.00"), TaxRateFactory(percentage=9), D("190.00"),
    )  # fmt: skip
    assert invoice.total == D("207.10")


def test_update_replaces_lines_and_recomputes(make_user):
    user = make_user(role="employee")
    invoice = InvoiceFactory(
        lines=[LineFactory(unit_price="10.00"), LineFactory(unit_price="20.00")], by=user
    )

    services.invoice_update(
        invoice=invoice,
        lines=[LineFactory(unit_price="129.95")],
        notes="New",
        by=user,
        via=Interface.ADMIN,
        expected_version=1,
    )

    invoice.refresh_from_db()
    assert [x.unit_price for x in invoice.lines.all()] == [D("129.95")]
    assert (invoice.total, invoice.version, invoice.notes) == (D("157.24"), 2, "New")
    record = ChangeRecord.objects.filter(object_id=invoice.pk).first()
    assert (record.action, record.actor, record.via) == ("update", user, "admin")
    assert record.changes["notes"] == ["", "New"]
    assert record.changes["total"] == ["36.30", "157.24"]
    assert [x["unit_price"] for x in record.changes["lines"][1]] == ["129.95"]


def test_stale_version_is_refused_and_changes_nothing():
    contact = ContactFactory(company_name="Old")
    services.contact_update(contact=contact, company_name="New", by=None, via=API)

    with pytest.raises(services.StaleVersion):
        services.contact_update(
            contact=contact, company_name="Lost", expected_version=1, by=None, via=API
        )

    assert Contact.objects.get(pk=contact.pk).company_name == "New"


def test_customer_numbers_are_assigned_and_skip_taken_ones():
    ContactFactory(customer_number="00002")

    numbers = [ContactFactory().customer_number for _ in range(3)]

    assert numbers == ["00001", "00003", "00004"]
    with pytest.raises(ValidationError) as exc:
        ContactFactory(customer_number="00003")
    assert exc.value.message_dict == {
        "customer_number": ["Contact with this Customer number already exists."]
    }


def test_contact_rules():
    with pytest.raises(ValidationError) as exc:
        services.contact_create(first_name="Ann", country="XX", by=None, via=API)

    assert exc.value.message_dict == {
        "company_name": ["Give a company name, or a first and a last name."],
        "country": ["Not an ISO 3166-1 alpha-2 country code."],
    }
    person = services.contact_create(first_name="Ann", last_name="Smit", country="nl", by=None,
                                     via=API)  # fmt: skip
    assert (person.display_name, person.country) == ("Ann Smit", "NL")


def test_history_records_every_write_with_interface(make_user):
    user = make_user(role="administrator")
    contact = ContactFactory(by=user, company_name="Acme")
    services.contact_update(contact=contact, city="Delft", by=user, via=Interface.SYNC)
    services.contact_update(contact=contact, city="Delft", by=user, via=API)  # no change
    services.contact_delete(contact=contact, by=user, via=Interface.ADMIN)

    rows = list(ChangeRecord.objects.filter(object_id=contact.pk).order_by("id"))

    assert [(r.action, r.via, r.actor_id) for r in rows] == [
        ("create", "api", user.pk), ("update", "sync", user.pk), ("delete", "admin", user.pk),
    ]  # fmt: skip
    assert rows[0].changes["company_name"] == [None, "Acme"]
    assert rows[1].changes == {"city": ["", "Delft"]}
    assert rows[2].changes["company_name"] == ["Acme", None]


def test_contact_with_invoices_and_used_tax_rate_cannot_be_deleted():
    invoice = InvoiceFactory()
    with pytest.raises(services.Conflict):
        services.contact_delete(contact=invoice.contact, by=None, via=API)
    with pytest.raises(services.Conflict):
        services.taxrate_delete(tax_rate=TaxRateFactory(percentage=21), by=None, via=API)
    assert Contact.objects.filter(pk=invoice.contact_id).exists()


def test_tax_rate_change_recomputes_drafts_only():
    rate = TaxRateFactory(percentage=7)
    draft = InvoiceFactory(lines=[LineFactory(unit_price="100.00", rate=7)])
    issued = InvoiceFactory(lines=[LineFactory(unit_price="100.00", rate=7)], finalize=True)

    services.taxrate_update(tax_rate=rate, percentage=D("8.00"), by=None, via=API)

    draft.refresh_from_db()
    issued.refresh_from_db()
    assert (draft.total, draft.version) == (D("108.00"), 2)
    assert issued.total == D("107.00")


def test_sync_upserts_write_the_rows_and_history_a_service_write_would(make_user):
    """The bulk sync path (raw INSERTs on PostgreSQL, the ORM elsewhere) writes the same
    records and ChangeRecords: actor, via=sync, `{field: [old, new]}` changes."""
    from django.contrib.contenttypes.models import ContentType

    from records.models import ChangeAction, ChangeRecord, Contact, Interface

    user = make_user(role="employee")
    kept = ContactFactory(company_name="Kept B.V.", customer_number="S-1")
    rows = [
        services.SyncRow(fields={"customer_number": "S-2", "company_name": "New B.V.",
                                 "country": "nl", "email": "a@example.com"}),
        services.SyncRow(fields={"customer_number": "S-1", "company_name": "Kept 2 B.V."},
                         record=kept, expected_version=kept.version),
        services.SyncRow(fields={"customer_number": "S-3", "company_name": ""}),
        services.SyncRow(fields={"customer_number": "S-4", "company_name": "Bad",
                                 "email": "not-an-email"}),
    ]  # fmt: skip
    outcomes = services.contacts_upsert_from_sync(rows=rows, by=user)
    assert [o.action for o in outcomes] == ["created", "updated", "failed", "failed"]
    assert set(outcomes[2].errors) == {"company_name"}
    assert set(outcomes[3].errors) == {"email"}
    created = Contact.objects.get(customer_number="S-2")
    assert (created.pk, created.country, created.version) == (outcomes[0].record.pk, "NL", 1)
    assert created.created_at == outcomes[0].record.created_at is not None
    assert Contact.objects.get(pk=kept.pk).version == kept.version + 1
    history = ChangeRecord.objects.filter(object_id__in=[created.pk, kept.pk], via=Interface.SYNC)
    by_object = {(c.object_id, c.action): c for c in history}
    assert len(by_object) == 2
    new = by_object[(created.pk, ChangeAction.CREATE)]
    assert new.content_type == ContentType.objects.get_for_model(Contact)
    assert new.actor == user
    assert new.created_at is not None
    assert new.changes["company_name"] == [None, "New B.V."]
    assert new.changes["email"] == [None, "a@example.com"]
    assert new.changes["phone"] == [None, ""]
    assert new.changes["country"] == [None, "NL"]  # as stored, not as sent ("nl")
    update = by_object[(kept.pk, ChangeAction.UPDATE)]
    assert update.actor == user
    assert update.changes == {"company_name": ["Kept B.V.", "Kept 2 B.V."]}
