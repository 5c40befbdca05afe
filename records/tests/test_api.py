"""The records REST API: bodies, If-Match, bad input, query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.models import ChangeRecord, Contact, Invoice, InvoiceLine, Product
from records.tests.factories import (
    ContactFactory,
    InvoiceFactory,
    LineFactory,
    ProductFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.django_db
INVOICES = reverse("invoices-list")
# Every authenticated request: the token's user, then the role group's permissions.
AUTH_QUERIES = 2


def invoice_url(invoice, action="detail"):
    return reverse(f"invoices-{action}", args=[invoice.pk])


def body_line(unit_price="10.00", quantity="1", rate=21, **extra):
    return {
        "description": "Work",
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_rate": str(TaxRateFactory(percentage=rate).pk),
        **extra,
    }


def bad_request(response, errors: dict):
    assert response.status_code == 400, response.content
    assert response.json() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }


# --- Invoices: create, read, change ------------------------------------------------------


def test_create_invoice_with_lines_answers_the_computed_body(employee_client):
    contact = ContactFactory()

    response = employee_client.post(
        INVOICES,
        {
            "contact": str(contact.pk),
            "issue_date": "2026-03-01",
            "due_date": "2026-03-31",
            "notes": "Thanks",
            "lines": [body_line("129.95"), body_line("15.50", quantity="3", rate=9)],
            # never trusted from input: these keys are refused, not silently used
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["ETag"] == '"1"'
    assert {k: body[k] for k in (
        "number", "status", "contact", "currency", "issue_date", "due_date", "notes",
        "subtotal", "tax_total", "total", "total_paid", "total_due", "payments", "version",
        "created_by",
    )} == {
        "number": None, "status": "draft", "contact": str(contact.pk), "currency": "EUR",
        "issue_date": "2026-03-01", "due_date": "2026-03-31", "notes": "Thanks",
        "subtotal": "176.45", "tax_total": "31.48", "total": "207.93", "total_paid": "0.00",
        "total_due": "207.93", "payments": [], "version": 1,
        "created_by": str(employee_client.user.pk),
    }  # fmt: skip
    lines = [(x["description"], x["quantity"], x["unit_price"], x["amount"]) for x in body["lines"]]
    assert lines == [
        ("Work", "1.000", "129.95", "129.95"), ("Work", "3.000", "15.50", "46.50"),
    ]  # fmt: skip
    assert [(x["percentage"], x["base"], x["tax"]) for x in body["tax_breakdown"]] == [
        ("21.00", "129.95", "27.29"), ("9.00", "46.50", "4.19"),
    ]  # fmt: skip


def test_totals_in_input_are_refused(employee_client):
    contact = ContactFactory()

    response = employee_client.post(
        INVOICES, {"contact": str(contact.pk), "total": "1.00", "status": "paid", "foo": 1}
    )

    bad_request(
        response,
        {
            "total": ["This field is read-only."],
            "status": ["This field is read-only."],
            "foo": ["Unknown field."],
        },
    )


def test_patch_replaces_a_drafts_lines(employee_client):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="1.00"), LineFactory(unit_price="2.00")])

    response = employee_client.patch(
        invoice_url(invoice), {"lines": [body_line("129.95")], "notes": "x"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert [x["unit_price"] for x in body["lines"]] == ["129.95"]
    assert (body["total"], body["version"], body["notes"]) == ("157.24", 2, "x")
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


def test_finalize_cancel_and_payments_over_the_api(employee_client):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="129.95")], issue_date=dt.date.today())

    finalized = employee_client.post(invoice_url(invoice, "finalize"))
    again = employee_client.post(invoice_url(invoice, "finalize"))
    part = employee_client.post(
        invoice_url(invoice, "payments"),
        {"amount": "57.24", "date": "2026-04-10", "method": "card", "reference": "R1"},
    )
    rest = employee_client.post(
        invoice_url(invoice, "payments"),
        {"amount": "100.00", "date": "2026-04-11", "method": "cash"},
    )
    cancel = employee_client.post(invoice_url(invoice, "cancel"))

    assert finalized.status_code == 200
    number = dt.date.today().strftime("%Y-0001")
    assert (finalized.json()["number"], finalized.json()["status"]) == (number, "open")
    assert again.status_code == 409
    assert again.json()["detail"] == "Only a draft invoice can be finalized."
    assert part.status_code == 201
    assert (part.json()["status"], part.json()["total_due"]) == ("open", "100.00")
    assert rest.status_code == 201
    assert (rest.json()["status"], rest.json()["total_paid"], rest.json()["total_due"]) == (
        "paid", "157.24", "0.00",
    )  # fmt: skip
    assert [(p["amount"], p["method"], p["reference"]) for p in rest.json()["payments"]] == [
        ("57.24", "card", "R1"), ("100.00", "cash", ""),
    ]  # fmt: skip
    assert cancel.status_code == 409
    assert cancel.json()["status"] == 409


def test_delete_draft_only(employee_client):
    draft, issued = InvoiceFactory(), InvoiceFactory(finalize=True)

    assert employee_client.delete(invoice_url(draft)).status_code == 204
    refused = employee_client.delete(invoice_url(issued))

    assert refused.status_code == 409
    assert (
        refused.json()["detail"] == "Only draft invoices can be deleted; cancel this one instead."
    )
    assert list(Invoice.objects.values_list("pk", flat=True)) == [issued.pk]


def test_history_endpoint(employee_client):
    invoice = InvoiceFactory(by=employee_client.user)
    employee_client.patch(invoice_url(invoice), {"notes": "Changed"})
    employee_client.post(invoice_url(invoice, "finalize"))

    response = employee_client.get(invoice_url(invoice, "history"))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["action"], r["via"], r["actor_email"]) for r in rows] == [
        ("finalize", "api", employee_client.user.email),
        ("update", "api", employee_client.user.email),
        ("create", "api", employee_client.user.email),
    ]
    assert rows[1]["changes"] == {"notes": ["", "Changed"]}
    assert rows[0]["changes"]["number"] == [None, invoice.issue_date.strftime("%Y-0001")]


def test_contact_and_product_history(employee_client):
    contact = ContactFactory()
    product = ProductFactory(sku="P1")
    employee_client.patch(reverse("contacts-detail", args=[contact.pk]), {"city": "Zwolle"})
    employee_client.patch(reverse("products-detail", args=[product.pk]), {"price": "11.00"})

    contact_rows = employee_client.get(reverse("contacts-history", args=[contact.pk])).json()
    product_rows = employee_client.get(reverse("products-history", args=[product.pk])).json()

    assert contact_rows["results"][0]["changes"] == {"city": ["", "Zwolle"]}
    assert product_rows["results"][0]["changes"] == {"price": ["10.00", "11.00"]}


def test_unknown_or_malformed_id_is_404(employee_client):
    assert (
        employee_client.get("/api/v1/invoices/00000000-0000-0000-0000-000000000000/").status_code
        == 404
    )
    assert employee_client.get("/api/v1/invoices/not-a-uuid/").status_code == 404


# --- If-Match -------------------------------------------------------------------------


def test_lost_update_second_patch_with_the_same_version_is_412(role_client):
    contact = ContactFactory(company_name="Acme")
    url = reverse("contacts-detail", args=[contact.pk])
    alice, bob = role_client("employee"), role_client("employee")
    version = alice.get(url).json()["version"]
    assert bob.get(url)["ETag"] == f'"{version}"'

    first = alice.patch(url, {"city": "Leiden"}, HTTP_IF_MATCH=f'"{version}"')
    second = bob.patch(url, {"city": "Gouda"}, HTTP_IF_MATCH=f'"{version}"')

    assert first.status_code == 200
    assert first.json()["version"] == version + 1
    assert second.status_code == 412
    assert second.json() == {
        "type": "about:blank",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "The record has changed since you read it (If-Match). Read it again.",
        "errors": {},
    }
    contact.refresh_from_db()
    assert (contact.city, contact.version) == ("Leiden", version + 1)
    assert ChangeRecord.objects.filter(object_id=contact.pk, action="update").count() == 1


@pytest.mark.parametrize("header", ["1", '"1"', 'W/"1"', "*"])
def test_if_match_forms_that_match(employee_client, header):
    invoice = InvoiceFactory()

    response = employee_client.patch(invoice_url(invoice), {"notes": "n"}, HTTP_IF_MATCH=header)

    assert response.status_code == 200


@pytest.mark.parametrize("header", ["2", '"0"', "garbage"])
def test_if_match_forms_that_do_not(employee_client, header, unchanged):
    invoice = InvoiceFactory()

    with unchanged():
        response = employee_client.patch(invoice_url(invoice), {"notes": "n"}, HTTP_IF_MATCH=header)

    assert response.status_code == 412


# --- Bad input: 400 naming each field, nothing written ----------------------------------


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            lambda c: {"contact": c, "lines": [body_line(quantity="-1")]},
            {"lines.0.quantity": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            lambda c: {"contact": c, "lines": [{**body_line(), "tax_rate": c}]},
            {"lines.0.tax_rate": ["Unknown tax rate."]},
        ),
        (
            lambda c: {"contact": c, "issue_date": "2026-03-10", "due_date": "2026-03-09"},
            {"due_date": ["The due date cannot be before the issue date."]},
        ),
        (
            lambda c: {"contact": c, "lines": [body_line(unit_price="12,50")]},
            {"lines.0.unit_price": ["A valid number is required."]},
        ),
        (
            lambda c: {"contact": c, "lines": [body_line(unit_price="1.005")]},
            {"lines.0.unit_price": ["Ensure that there are no more than 2 decimal places."]},
        ),
        (
            lambda c: {"contact": c, "lines": [body_line(unit_price="NaN")]},
            {"lines.0.unit_price": ["A valid number is required."]},
        ),
        (
            lambda c: {"contact": "00000000-0000-0000-0000-000000000000"},
            {"contact": ["Unknown contact."]},
        ),
        (lambda c: {"contact": "acme"}, {"contact": ["Must be a valid UUID."]}),
        (lambda c: {"contact": c, "currency": "eur"}, {"currency": [
            "Give an ISO 4217 currency code, such as EUR."]}),
        (
            lambda c: {"contact": c, "lines": [{"quantity": "1"}]},
            {"lines.0.tax_rate": ["This field is required."],
             "lines.0.description": ["This field is required."],
             "lines.0.unit_price": ["This field is required."]},
        ),
        (
            lambda c: {"contact": c, "lines": [body_line(), {**body_line(), "product": c}]},
            {"lines.1.product": ["Unknown product."]},
        ),
        (lambda c: {"contact": c, "lines": "many"}, {
            "lines.non_field_errors": ['Expected a list of items but got type "str".']}),
    ],
)  # fmt: skip
def test_bad_invoice_input_is_400_and_writes_nothing(employee_client, unchanged, payload, errors):
    contact = ContactFactory()
    InvoiceFactory(contact=contact)

    with unchanged():
        response = employee_client.post(INVOICES, payload(str(contact.pk)))

    bad_request(response, errors)


def test_lines_on_a_finalized_invoice_are_400(employee_client, unchanged):
    invoice = InvoiceFactory(finalize=True)

    with unchanged():
        response = employee_client.patch(
            invoice_url(invoice), {"lines": [body_line()], "due_date": "2030-01-01", "notes": "ok"}
        )

    bad_request(
        response,
        {
            "lines": ["The lines of a finalized invoice cannot change."],
            "due_date": ["Only the notes of a finalized invoice can change."],
        },
    )


def test_a_failed_patch_changes_nothing_at_all(employee_client, unchanged):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="5.00")])

    with unchanged():
        response = employee_client.patch(
            invoice_url(invoice),
            {"notes": "would be fine", "lines": [body_line("1.00"), body_line(quantity="-2")]},
        )

    bad_request(
        response, {"lines.1.quantity": ["Ensure this value is greater than or equal to 0."]}
    )


@pytest.mark.parametrize(
    ("setup", "payload", "errors"),
    [
        ("open", {"amount": "157.25", "date": "2026-01-01", "method": "cash"},
         {"amount": ["The payment exceeds the amount due (157.24)."]}),
        ("open", {"amount": "0", "date": "2026-01-01", "method": "cash"},
         {"amount": ["Ensure this value is greater than 0."]}),
        ("open", {"amount": "1.x", "date": "01-01-2026", "method": "cheque"},
         {"amount": ["A valid number is required."],
          "date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
          "method": ['"cheque" is not a valid choice.']}),
        ("draft", {"amount": "1.00", "date": "2026-01-01", "method": "cash"},
         {"invoice": ["Payments can be registered on open invoices only; this one is draft."]}),
        ("cancelled", {"amount": "1.00", "date": "2026-01-01", "method": "cash"},
         {"invoice": [
             "Payments can be registered on open invoices only; this one is cancelled."]}),
    ],
)  # fmt: skip
def test_bad_payments_are_400_and_write_nothing(employee_client, unchanged, setup, payload, errors):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="129.95")], finalize=setup == "open")
    if setup == "cancelled":
        employee_client.post(invoice_url(invoice, "cancel"))

    with unchanged():
        response = employee_client.post(invoice_url(invoice, "payments"), payload)

    bad_request(response, errors)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"first_name": "Ann"}, {"company_name": [
            "Give a company name, or a first and a last name."]}),
        ({"company_name": "X", "country": "Holland"}, {"country": [
            "Ensure this field has no more than 2 characters."]}),
        ({"company_name": "X", "country": "QQ"}, {"country": [
            "Not an ISO 3166-1 alpha-2 country code."]}),
        ({"company_name": "X", "email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"company_name": "X", "customer_number": "00001"}, {"customer_number": [
            "Contact with this Customer number already exists."]}),
    ],
)  # fmt: skip
def test_bad_contact_input(employee_client, unchanged, payload, errors):
    ContactFactory(customer_number="00001")

    with unchanged():
        response = employee_client.post(reverse("contacts-list"), payload)

    bad_request(response, errors)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"price": "-1.00"}, {"price": ["Ensure this value is greater than or equal to 0."]}),
        ({"tax_rate": "00000000-0000-0000-0000-000000000000"}, {"tax_rate": ["Unknown tax rate."]}),
        ({"sku": "TAKEN"}, {"sku": ["Product with this SKU already exists."]}),
        ({"price": "abc"}, {"price": ["A valid number is required."]}),
    ],
)  # fmt: skip
def test_bad_product_input(employee_client, unchanged, payload, errors):
    ProductFactory(sku="TAKEN")
    valid = {
        "sku": "NEW",
        "title": "New",
        "price": "1.00",
        "tax_rate": str(TaxRateFactory(percentage=21).pk),
    }

    with unchanged():
        response = employee_client.post(reverse("products-list"), {**valid, **payload})

    bad_request(response, errors)


def test_tax_rate_percentage_over_100_is_400(admin_client_api, unchanged):
    with unchanged():
        response = admin_client_api.post(
            reverse("tax-rates-list"), {"name": "Silly", "percentage": "101.00"}
        )

    bad_request(response, {"percentage": ["Ensure this value is less than or equal to 100."]})


def test_seeded_tax_rates(employee_client):
    rows = employee_client.get(reverse("tax-rates-list")).json()["results"]

    assert sorted(Decimal(r["percentage"]) for r in rows) == [Decimal(0), Decimal(9), Decimal(21)]


# --- Query counts -----------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.json()["results"]


@pytest.mark.parametrize(
    ("name", "own_queries"),
    [("contacts-list", 1), ("products-list", 1), ("tax-rates-list", 1), ("invoices-list", 3)],
)
def test_list_query_count_does_not_depend_on_page_size(employee_client, name, own_queries):
    contact = ContactFactory()
    for i in range(105):
        ProductFactory(sku=f"SKU-{i}")
        ContactFactory(company_name=f"C{i}")
        invoice = InvoiceFactory(
            contact=contact,
            lines=[LineFactory(unit_price="10.00"), LineFactory(unit_price="5.00", rate=9)],
            finalize=i % 2 == 0,
        )
        if i % 2 == 0:
            from records import services
            from records.models import Interface

            services.payment_register(invoice=invoice, amount=Decimal("1.00"),
                                      date=dt.date(2026, 1, 1), method="cash", by=None,
                                      via=Interface.API)  # fmt: skip
    for i in range(105):
        TaxRateFactory(percentage=f"{30 + i / 2:.2f}")
    url = reverse(name)

    small, small_rows = _count(employee_client, f"{url}?page_size=5")
    large, large_rows = _count(employee_client, f"{url}?page_size=100")

    assert (len(small_rows), len(large_rows)) == (5, 100)
    assert small == large == AUTH_QUERIES + own_queries
    assert own_queries <= 3


def test_creating_an_invoice_costs_the_same_at_1_and_50_lines(employee_client):
    contact = ContactFactory()
    product = ProductFactory(sku="P")
    employee_client.post(INVOICES, {"contact": str(contact.pk), "lines": [body_line()]})  # warm

    def create(n):
        lines = [body_line(rate=(21, 9, 0)[i % 3], product=str(product.pk)) for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            response = employee_client.post(INVOICES, {"contact": str(contact.pk), "lines": lines})
        assert response.status_code == 201, response.content
        assert len(response.json()["lines"]) == n
        return len(queries)

    assert create(1) == create(50)
    assert Invoice.objects.count() == 3
    assert Contact.objects.count() == 1
    assert Product.objects.count() == 1
