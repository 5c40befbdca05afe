"""The "invoice paid" email: its content, and that it is queued after commit to a worker."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from accounts.tests.test_emails import wait_for_mail
from records import services, tasks
from records.models import Interface
from records.tests.factories import ContactFactory, InvoiceFactory, LineFactory
from tests.support.auth import api_client_for


@pytest.mark.django_db
def test_the_task_emails_the_creator_text_and_html(mailoutbox):
    creator = UserFactory(role="employee", name="Erin", email="erin@example.com")
    invoice = InvoiceFactory(
        by=creator,
        contact=ContactFactory(company_name="Acme B.V."),
        lines=[LineFactory(unit_price="129.95")],
        issue_date=dt.date(2026, 3, 1),
        finalize=True,
    )
    services.payment_register(
        invoice=invoice, amount=Decimal("157.24"), date=dt.date(2026, 3, 5), method="cash",
        by=creator, via=Interface.API,
    )  # fmt: skip

    tasks.send_invoice_paid_email(str(invoice.pk))  # the task's body, run here

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["erin@example.com"]
    assert message.subject == "Invoice 2026-0001 has been paid"
    assert "Invoice 2026-0001 to Acme B.V. has been paid in full: EUR 157.24." in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>2026-0001</strong> to Acme B.V." in html


@pytest.mark.django_db
def test_no_email_for_an_unpaid_invoice_or_without_a_creator(mailoutbox):
    unpaid = InvoiceFactory(by=UserFactory(role="employee"), finalize=True)
    no_creator = InvoiceFactory(lines=[LineFactory(unit_price="1.00")], finalize=True)
    services.payment_register(
        invoice=no_creator, amount=Decimal("1.21"), date=dt.date(2026, 1, 1), method="cash",
        by=None, via=Interface.API,
    )  # fmt: skip

    tasks.send_invoice_paid_email(str(unpaid.pk))
    tasks.send_invoice_paid_email(str(no_creator.pk))

    assert mailoutbox == []


@pytest.mark.django_db
def test_the_email_is_queued_only_on_commit(django_capture_on_commit_callbacks):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="10.00")], finalize=True)
    partial = {"amount": Decimal("5.00"), "date": dt.date(2026, 1, 1), "method": "cash"}

    with django_capture_on_commit_callbacks() as callbacks:
        services.payment_register(invoice=invoice, **partial, by=None, via=Interface.API)
    assert callbacks == []  # not paid yet: nothing to send

    with django_capture_on_commit_callbacks() as callbacks:
        services.payment_register(
            invoice=invoice, amount=Decimal("7.10"), date=dt.date(2026, 1, 2), method="cash",
            by=None, via=Interface.API,
        )  # fmt: skip
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_paying_over_the_api_emails_the_creator_through_the_worker(celery_worker_process):
    creator = UserFactory(role="employee", email=f"paid-{time.time_ns()}@example.com")
    client = api_client_for(creator)
    invoice = InvoiceFactory(by=creator, lines=[LineFactory(unit_price="129.95")], finalize=True)

    response = client.post(
        reverse("invoices-payments", args=[invoice.pk]),
        {"amount": "157.24", "date": "2026-03-05", "method": "bank_transfer"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["status"] == "paid"
    message = wait_for_mail(creator.email)
    assert message["Subject"] == f"Invoice {invoice.number} has been paid"
    assert "has been paid in full: EUR 157.24." in message.get_body(("plain",)).get_content()
    assert f"<strong>{invoice.number}</strong>" in message.get_body(("html",)).get_content()
