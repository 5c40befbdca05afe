"""Filters, ordering and cursor pagination (a deep page costs what the first one does)."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records import services
from records.models import Contact, Interface
from records.tests.factories import ContactFactory, InvoiceFactory, LineFactory, ProductFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_contact_filters(employee_client):
    acme = ContactFactory(company_name="Acme", country="NL", city="Delft")
    smit = ContactFactory(first_name="Jan", last_name="Smit", country="BE", email="jan@smit.be")
    url = reverse("contacts-list")
    Contact.objects.filter(pk=acme.pk).update(created_at=timezone.now() - dt.timedelta(days=10))

    assert ids(employee_client.get(url, {"country": "nl"})) == [str(acme.pk)]
    assert ids(employee_client.get(url, {"search": "smit"})) == [str(smit.pk)]
    assert ids(employee_client.get(url, {"search": "delft"})) == [str(acme.pk)]
    assert ids(employee_client.get(url, {"customer_number": smit.customer_number})) == [
        str(smit.pk)
    ]
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ids(employee_client.get(url, {"created_after": since})) == [str(smit.pk)]
    assert ids(employee_client.get(url, {"ordering": "company_name"}))[-1] == str(acme.pk)
    bad = employee_client.get(url, {"created_after": "yesterday"})
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["created_after"]


def test_product_filters(employee_client):
    cheap = ProductFactory(sku="CHEAP", price="5.00", rate=9, title="Pen")
    mid = ProductFactory(sku="MID", price="50.00", title="Lamp")
    dear = ProductFactory(sku="DEAR", price="500.00", is_active=False, title="Desk")
    url = reverse("products-list")
    by_price = {"ordering": "price"}

    assert ids(employee_client.get(url, {"price__gte": "50", **by_price})) == [
        str(mid.pk), str(dear.pk),
    ]  # fmt: skip
    assert ids(employee_client.get(url, {"price__lte": "50.00", **by_price})) == [
        str(cheap.pk), str(mid.pk),
    ]  # fmt: skip
    assert ids(employee_client.get(url, {"tax_rate": str(cheap.tax_rate_id)})) == [str(cheap.pk)]
    assert ids(employee_client.get(url, {"is_active": "false"})) == [str(dear.pk)]
    assert ids(employee_client.get(url, {"search": "lamp"})) == [str(mid.pk)]
    assert ids(employee_client.get(url, {"ordering": "-price"})) == [
        str(dear.pk), str(mid.pk), str(cheap.pk),
    ]  # fmt: skip
    bad = employee_client.get(url, {"price__gte": "lots", "tax_rate": "x"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"price__gte", "tax_rate"}


def test_invoice_filters(employee_client):
    acme = ContactFactory(company_name="Acme")
    other = ContactFactory(company_name="Other")
    past = TODAY - dt.timedelta(days=60)
    draft = InvoiceFactory(contact=acme, lines=[LineFactory(unit_price="10.00")], issue_date=TODAY)
    open_ = InvoiceFactory(
        contact=acme, lines=[LineFactory(unit_price="100.00")], issue_date=TODAY, finalize=True
    )
    late = InvoiceFactory(
        contact=other, lines=[LineFactory(unit_price="1000.00")], issue_date=past,
        due_date=past + dt.timedelta(days=30), finalize=True, notes="rush job",
    )  # fmt: skip
    paid = InvoiceFactory(
        contact=other, lines=[LineFactory(unit_price="50.00")], issue_date=past, finalize=True
    )
    services.payment_register(
        invoice=paid, amount=Decimal("60.50"), date=TODAY, method="cash", by=None,
        via=Interface.API,
    )  # fmt: skip
    url = reverse("invoices-list")

    def get(**params):
        return ids(employee_client.get(url, {**params, "ordering": "total"}))

    assert get(status="draft") == [str(draft.pk)]
    assert get(status="open") == [str(open_.pk)]
    assert get(status="late") == [str(late.pk)]
    assert get(status="paid") == [str(paid.pk)]
    assert get(contact=str(acme.pk)) == [str(draft.pk), str(open_.pk)]
    assert get(issue_date__gte=TODAY.isoformat()) == [str(draft.pk), str(open_.pk)]
    assert get(issue_date__lte=past.isoformat()) == [str(paid.pk), str(late.pk)]
    assert get(due_date__lt=TODAY.isoformat()) == [str(paid.pk), str(late.pk)]  # paid: not late
    assert get(total__gte="60.50") == [str(paid.pk), str(open_.pk), str(late.pk)]
    assert get(total__lte="121.00") == [str(draft.pk), str(paid.pk), str(open_.pk)]
    assert get(number=late.number) == [str(late.pk)]
    assert get(search="rush") == [str(late.pk)]
    assert get(search="other") == [str(paid.pk), str(late.pk)]
    late_body = employee_client.get(reverse("invoices-detail", args=[late.pk])).json()
    assert late_body["status"] == "late"
    bad = employee_client.get(url, {"status": "overdue", "total__gte": "1,5", "contact": "x"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"status", "total__gte", "contact"}


def test_page_size_default_cap_and_cursor_links(employee_client):
    Contact.objects.bulk_create(
        [Contact(company_name=f"C{i:03d}", customer_number=f"B{i:05d}") for i in range(130)]
    )
    url = reverse("contacts-list")

    default = employee_client.get(url).json()
    capped = employee_client.get(url, {"page_size": 1000}).json()

    assert len(default["results"]) == 25
    assert len(capped["results"]) == 100
    assert default["previous"] is None
    assert "cursor=" in default["next"]
    assert set(default) == {"next", "previous", "results"}  # no COUNT(*)


def test_a_deep_page_is_a_keyset_query_and_costs_what_the_first_does(employee_client):
    start = timezone.now() - dt.timedelta(days=1)
    Contact.objects.bulk_create(
        [Contact(company_name=f"C{i:04d}", customer_number=f"D{i:05d}") for i in range(1200)]
    )
    # distinct, known creation times: C0000 oldest ... C1199 newest
    contacts = list(Contact.objects.order_by("company_name"))
    for i, contact in enumerate(contacts):
        contact.created_at = start + dt.timedelta(seconds=i)
    Contact.objects.bulk_update(contacts, ["created_at"], batch_size=500)
    url = f"{reverse('contacts-list')}?page_size=100"

    with CaptureQueriesContext(connection) as first_queries:
        page = employee_client.get(url).json()
    seen = [row["company_name"] for row in page["results"]]
    for _ in range(10):  # walk to page 11 (rows 1000..1099)
        page = employee_client.get(page["next"]).json()
        seen += [row["company_name"] for row in page["results"]]
    with CaptureQueriesContext(connection) as deep_queries:
        deep = employee_client.get(page["next"]).json()

    assert seen == [f"C{i:04d}" for i in range(1199, 99, -1)]
    assert [row["company_name"] for row in deep["results"]] == [
        f"C{i:04d}" for i in range(99, -1, -1)
    ]
    assert deep["next"] is None
    assert len(deep_queries) == len(first_queries)
    rows_sql = deep_queries.captured_queries[-1]["sql"]
    assert '"created_at" <' in rows_sql
    assert "OFFSET" not in rows_sql.upper()
    cursor = parse_qs(urlsplit(page["next"]).query)["cursor"]
    assert cursor
