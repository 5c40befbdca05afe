"""Admin writes go through the services: validated, recomputed, recorded (via=admin)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from records.models import ChangeRecord, Contact, Invoice, InvoiceStatus
from records.tests.factories import ContactFactory, InvoiceFactory, LineFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web():
    client = Client()
    client.force_login(UserFactory(role="administrator"))
    return client


def management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_add_invoice_with_lines_through_the_service(admin_web):
    contact = ContactFactory()
    rate = TaxRateFactory(percentage=21)

    response = admin_web.post(
        reverse("admin:records_invoice_add"),
        {
            "contact": str(contact.pk), "currency": "EUR", "issue_date": "2026-03-01",
            "due_date": "2026-03-31", "notes": "",
            **management("lines", 1),
            "lines-0-description": "Work", "lines-0-quantity": "1",
            "lines-0-unit_price": "129.95", "lines-0-tax_rate": str(rate.pk),
            **management("payments", 0),
        },
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = Invoice.objects.get()
    assert (invoice.total, invoice.tax_total, invoice.status) == (
        Decimal("157.24"), Decimal("27.29"), InvoiceStatus.DRAFT,
    )  # fmt: skip
    record = ChangeRecord.objects.get(object_id=invoice.pk)
    assert (record.action, record.via) == ("create", "admin")


def test_finalize_and_cancel_actions_call_the_services(admin_web):
    drafts = [InvoiceFactory(issue_date=dt.date(2026, 2, 1)) for _ in range(2)]
    url = reverse("admin:records_invoice_changelist")

    admin_web.post(
        url, {"action": "finalize_selected", "_selected_action": [str(d.pk) for d in drafts]}
    )
    admin_web.post(url, {"action": "cancel_selected", "_selected_action": [str(drafts[1].pk)]})

    rows = {i.pk: (i.number, i.status) for i in Invoice.objects.all()}
    assert sorted(rows.values()) == [("2026-0001", "open"), ("2026-0002", "cancelled")]
    assert ChangeRecord.objects.filter(via="admin", action="finalize").count() == 2


def test_finalized_invoice_page_is_read_only_and_shows_history(admin_web):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="10.00")], finalize=True)

    page = admin_web.get(reverse("admin:records_invoice_change", args=[invoice.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="lines-0-quantity"' not in html  # the lines inline is read-only
    assert 'name="issue_date"' not in html
    assert 'name="payments-__prefix__-amount"' in html  # a payment can be added
    assert "<td>Finalized</td>" in html  # the history table
    assert "<td>Created</td>" in html


def test_admin_contact_rule_error_rolls_back_with_a_message(admin_web):
    response = admin_web.post(
        reverse("admin:records_contact_add"), {"first_name": "Ann", "country": "QQ"}, follow=True
    )

    assert Contact.objects.count() == 0
    assert response.status_code == 200
    assert "Give a company name, or a first and a last name." in response.content.decode()


def test_employee_cannot_delete_a_finalized_invoice_in_admin():
    client = Client()
    client.force_login(UserFactory(role="employee"))
    invoice = InvoiceFactory(finalize=True)

    response = client.post(
        reverse("admin:records_invoice_delete", args=[invoice.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()
