"""The broker down: a committed write still answers its success, and endpoints that only
exist to queue work answer 503 with Retry-After before writing anything."""

import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from integrations.models import OutboxItem
from integrations.tests.factories import ConnectionFactory
from project.celery import app as celery_app
from project.tasks import send_now, send_on_commit
from records.models import Invoice, InvoiceStatus, Payment
from records.tests.factories import InvoiceFactory, LineFactory
from tests.support.auth import api_client_for

pytestmark = pytest.mark.django_db
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
UNAVAILABLE = {
    "type": "about:blank",
    "title": "Service Unavailable",
    "status": 503,
    "detail": "A service Ledgerbridge depends on is unavailable; try again shortly.",
    "errors": {},
}


def _reset_pools():
    celery_app._after_fork()  # drops its references to the connection and producer pools


@pytest.fixture
def dead_broker():
    """Point the Celery client at a port where nothing listens (its pools rebuilt)."""
    previous = celery_app.conf.broker_url
    _reset_pools()
    celery_app.conf.broker_url = DEAD_BROKER
    yield
    _reset_pools()
    celery_app.conf.broker_url = previous


@pytest.fixture
def anonymous():
    return APIClient(raise_request_exception=False)


def unavailable(response):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == UNAVAILABLE


@pytest.mark.parametrize("email", ["known@example.com", "nobody@example.com"])
def test_password_reset_with_the_broker_down_is_503_and_queues_nothing(
    dead_broker, anonymous, django_capture_on_commit_callbacks, email
):
    UserFactory(email="known@example.com")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = anonymous.post(reverse("auth-password-reset"), {"email": email})

    unavailable(response)
    assert callbacks == []


def test_verification_resend_with_the_broker_down_is_503(
    dead_broker, django_capture_on_commit_callbacks
):
    client = api_client_for(UserFactory(is_verified=False))
    client.raise_request_exception = False

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("auth-verify-email-resend"))

    unavailable(response)
    assert callbacks == []


def test_a_payment_that_pays_the_invoice_commits_though_its_email_cannot_be_queued(
    dead_broker, django_capture_on_commit_callbacks, caplog
):
    invoice = InvoiceFactory(lines=[LineFactory(unit_price="10.00", rate=0)], finalize=True)
    client = api_client_for(role="employee")
    client.raise_request_exception = False
    url = reverse("invoices-payments", args=[invoice.pk])

    payment = {"amount": "10.00", "date": "2026-01-02", "method": "cash"}
    with (
        caplog.at_level(logging.ERROR, logger="project.tasks"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = client.post(url, payment)

    assert response.status_code == 201, response.content
    assert len(callbacks) == 1
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert [r.getMessage() for r in caplog.records if r.name == "project.tasks"] == [
        "broker unavailable: records.send_invoice_paid_email was not queued"
    ]


def test_an_invitation_commits_though_its_email_cannot_be_queued(
    dead_broker, django_capture_on_commit_callbacks, caplog
):
    client = api_client_for(role="administrator")
    client.raise_request_exception = False

    with (
        caplog.at_level(logging.ERROR, logger="project.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("users-list"), {"email": "new@example.com", "name": "New", "role": "viewer"}
        )

    assert response.status_code == 201, response.content
    assert "accounts.send_password_reset_email was not queued" in caplog.text


def test_a_finalize_through_an_admin_session_commits_though_its_push_cannot_be_queued(
    dead_broker, django_capture_on_commit_callbacks, caplog
):
    ConnectionFactory()  # active: finalizing writes the outbox and enqueues the push
    invoice = InvoiceFactory()
    client = APIClient(raise_request_exception=False)
    client.force_login(UserFactory(role="administrator", superuser=True))  # Django session
    url = reverse("invoices-finalize", args=[invoice.pk])

    with (
        caplog.at_level(logging.ERROR, logger="project.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url)

    assert response.status_code == 200, response.content
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN
    assert OutboxItem.objects.filter(connection__isnull=False).exists()
    assert "broker unavailable: integrations.push_item was not queued" in caplog.text


def test_send_helpers_report_instead_of_raising(dead_broker, django_capture_on_commit_callbacks):
    from project.celery import ping

    assert send_now(ping, ("x",)) is False
    assert send_now("project.ping", ("x",)) is False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_on_commit(ping, ("x",))
    assert len(callbacks) == 1


def test_send_helpers_queue_when_the_broker_is_up(django_capture_on_commit_callbacks):
    from project.celery import ping

    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(ping, ("x",), ignore_result=True)
    assert send_now(ping, ("x",), ignore_result=True) is True
    assert send_now("project.ping", ("x",), ignore_result=True) is True
