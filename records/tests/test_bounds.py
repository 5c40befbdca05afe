"""Amounts and dates at the edge of their columns: a 400 naming the field, never a 500.

The database columns bound what a record can hold: a line amount and each invoice total
at most 999,999,999,999.99 (`MONEY`: 14 digits, 2 decimals), and invoice and payment
dates between 1900-01-01 and 2999-12-31 (so a due date computed from the issue date
cannot overflow).
"""

import pytest
from django.urls import reverse

from records.tests.factories import ContactFactory, InvoiceFactory, LineFactory, TaxRateFactory

pytestmark = pytest.mark.django_db
INVOICES = reverse("invoices-list")
TOO_LARGE = ["The amount is too large: at most 999999999999.99."]
DATE_RANGE = ["Give a date between 1900-01-01 and 2999-12-31."]


def body_line(quantity, unit_price, rate=21):
    return {
        "description": "Work",
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_rate": str(TaxRateFactory(percentage=rate).pk),
    }


def errors_of(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    return body["errors"]


def test_a_line_amount_over_its_column_is_400_naming_the_line(employee_client, unchanged):
    contact = ContactFactory()
    payload = {
        "contact": str(contact.pk),
        "lines": [body_line("1", "10.00"), body_line("999999999.999", "99999.99")],
    }

    with unchanged():
        response = employee_client.post(INVOICES, payload)

    assert errors_of(response) == {"lines.1.amount": TOO_LARGE}


def test_quantity_times_price_over_the_totals_columns_is_400(employee_client, unchanged):
    contact = ContactFactory()
    payload = {
        "contact": str(contact.pk),
        "lines": [body_line("1", "10.00"), body_line("999999999.999", "1000.00")],
    }

    with unchanged():
        response = employee_client.post(INVOICES, payload)

    # the line (999,999,999,999.00) fits; the subtotal and the total do not
    assert errors_of(response) == {"subtotal": TOO_LARGE, "total": TOO_LARGE}


def test_many_large_lines_whose_total_overflows_is_400(employee_client, unchanged):
    contact = ContactFactory()
    big = body_line("999999.999", "999999.99")  # 999,999,989,000.00 each: fits alone
    payload = {"contact": str(contact.pk), "lines": [big] * 3}

    with unchanged():
        response = employee_client.post(INVOICES, payload)

    # subtotal 2,999,999,967,000.00; tax 629,999,993,070.00 (fits); total over
    assert errors_of(response) == {"subtotal": TOO_LARGE, "total": TOO_LARGE}


def test_replacing_lines_with_an_overflowing_total_is_400(employee_client, unchanged):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="10.00")])
    big = body_line("999999.999", "999999.99")
    url = reverse("invoices-detail", args=[invoice.pk])

    with unchanged():
        response = employee_client.patch(url, {"lines": [big, big]})

    assert "total" in errors_of(response)


@pytest.mark.parametrize("issue_date", ["9999-12-31", "9999-12-10", "3000-01-01", "1899-12-31"])
def test_an_issue_date_out_of_range_without_due_date_is_400(employee_client, unchanged, issue_date):
    contact = ContactFactory()
    payload = {"contact": str(contact.pk), "issue_date": issue_date, "lines": [body_line("1", "1")]}

    with unchanged():
        response = employee_client.post(INVOICES, payload)

    assert errors_of(response) == {"issue_date": DATE_RANGE}


def test_a_due_date_out_of_range_is_400(employee_client, unchanged):
    contact = ContactFactory()
    payload = {"contact": str(contact.pk), "issue_date": "2026-01-01", "due_date": "9999-01-01"}

    with unchanged():
        response = employee_client.post(INVOICES, payload)

    assert errors_of(response) == {"due_date": DATE_RANGE}


def test_the_bounds_themselves_are_accepted(employee_client):
    contact = ContactFactory()
    payload = {
        "contact": str(contact.pk),
        "issue_date": "2999-12-01",
        "due_date": "2999-12-31",
        "lines": [body_line("1", "999999999999.99", rate=0)],
    }

    response = employee_client.post(INVOICES, payload)

    assert response.status_code == 201, response.content
    assert response.json()["total"] == "999999999999.99"
    with_tax = {**payload, "lines": [body_line("1", "999999999999.99", rate=21)]}
    assert errors_of(employee_client.post(INVOICES, with_tax)) == {"total": TOO_LARGE}
    early = {"contact": str(contact.pk), "issue_date": "1900-01-01"}
    assert employee_client.post(INVOICES, early).json()["due_date"] == "1900-01-31"


@pytest.mark.parametrize("date", ["1899-12-31", "3000-01-01", "9999-12-31"])
def test_a_payment_date_out_of_range_is_400(employee_client, unchanged, date):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="10.00")], finalize=True)
    url = reverse("invoices-payments", args=[invoice.pk])

    with unchanged():
        response = employee_client.post(url, {"amount": "1.00", "date": date, "method": "cash"})

    assert errors_of(response) == {"date": DATE_RANGE}
