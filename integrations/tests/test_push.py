"""Push without a worker: the outbox the finalize writes, the send endpoint, the
invoice's accounting summary, the sweep's choice, pausing and resuming, admin's
"retry now". (Over HTTP with a real worker: test_push_worker.py.)"""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from integrations import services
from integrations.admin import OutboxItemAdmin
from integrations.models import ConnectionStatus, OutboxItem, OutboxKind, OutboxStatus
from records import services as records_services
from records.models import AccountingStatus, ChangeRecord, Interface
from records.tests.factories import InvoiceFactory

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def send_url(invoice) -> str:
    return reverse("invoices-send", args=[invoice.pk])


def test_finalizing_writes_one_group_per_active_connection_in_order(
    make_user, django_capture_on_commit_callbacks
):
    active = ConnectionFactory()
    disabled = ConnectionFactory()
    services.connection_disable(connection=disabled)
    user = make_user(role="employee")
    with django_capture_on_commit_callbacks() as callbacks:
        invoice = InvoiceFactory(by=user, finalize=True)
    items = list(OutboxItem.objects.filter(invoice=invoice).order_by("position"))
    assert [(i.connection_id, i.kind, i.position, i.status) for i in items] == [
        (active.pk, OutboxKind.ENSURE_CONTACT, 0, OutboxStatus.PENDING),
        (active.pk, OutboxKind.CREATE_INVOICE, 1, OutboxStatus.PENDING),
        (active.pk, OutboxKind.SEND_INVOICE, 2, OutboxStatus.PENDING),
    ]
    assert len({i.group for i in items}) == 1
    assert items[0].object_id == invoice.contact_id
    assert {i.requested_by_id for i in items} == {user.pk}
    assert len(callbacks) == 1  # the first item is handed to a worker after commit
    invoice.refresh_from_db()
    assert invoice.accounting_status == AccountingStatus.PENDING


def test_a_finalize_that_fails_leaves_no_outbox():
    ConnectionFactory()
    invoice = InvoiceFactory(lines=[])
    with pytest.raises(ValidationError):  # no lines
        records_services.invoice_finalize(invoice=invoice, by=None, via=Interface.API)
    assert not OutboxItem.objects.exists()


def test_send_answers_202_with_the_push_and_is_idempotent(role_client):
    invoice = InvoiceFactory(finalize=True)  # no connection yet: nothing written
    assert not OutboxItem.objects.exists()
    connection = ConnectionFactory()
    client = role_client("employee")

    first = client.post(send_url(invoice))
    again = client.post(send_url(invoice))

    assert first.status_code == 202, first.content
    body = first.json()
    item = OutboxItem.objects.get(invoice=invoice, kind=OutboxKind.SEND_INVOICE)
    assert body["id"] == str(item.pk)
    assert (body["kind"], body["status"], body["connection"], body["invoice"]) == (
        "send_invoice", "pending", str(connection.pk), str(invoice.pk))  # fmt: skip
    assert [(s["kind"], s["status"]) for s in body["steps"]] == [
        ("ensure_contact", "pending"), ("create_invoice", "pending"), ("send_invoice", "pending"),
    ]  # fmt: skip
    assert first["Location"].endswith(reverse("invoices-detail", args=[invoice.pk]))
    assert again.status_code == 202
    assert again.json()["id"] == body["id"]
    assert OutboxItem.objects.count() == 3


@pytest.mark.parametrize("state", ["draft", "cancelled"])
def test_only_open_invoices_can_be_sent(role_client, state):
    ConnectionFactory()
    invoice = InvoiceFactory()
    if state == "cancelled":
        records_services.invoice_cancel(invoice=invoice, by=None, via=Interface.API)
    response = role_client("employee").post(send_url(invoice))
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"Only an open or late invoice can be sent; this one is {state}."
    )
    assert not OutboxItem.objects.exists()


def test_sending_without_an_active_connection_is_a_conflict(role_client):
    invoice = InvoiceFactory(finalize=True)
    services.connection_disable(connection=ConnectionFactory())
    response = role_client("administrator").post(send_url(invoice))
    assert response.status_code == 409
    assert response.json()["detail"] == "There is no active accounting connection to send it to."


def test_send_of_an_unknown_invoice_is_404(role_client):
    response = role_client("employee").post(
        reverse("invoices-send", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404


def test_the_invoice_body_shows_its_accounting_state_without_a_new_version(role_client):
    invoice = InvoiceFactory(finalize=True)
    client = role_client("viewer")
    url = reverse("invoices-detail", args=[invoice.pk])
    assert client.get(url).json()["accounting"] == {
        "status": "", "remote_id": "", "remote_number": "", "last_error": "", "synced_at": None,
    }  # fmt: skip
    history = ChangeRecord.objects.count()
    at = timezone.now()
    records_services.invoice_set_accounting_state(
        invoice_id=invoice.pk, status=AccountingStatus.SENT, remote_id="4711",
        remote_number="2026-0042", last_error="", synced_at=at,
    )  # fmt: skip
    body = client.get(url).json()
    assert body["accounting"] == {
        "status": "sent", "remote_id": "4711", "remote_number": "2026-0042", "last_error": "",
        "synced_at": at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    assert body["version"] == invoice.version
    assert ChangeRecord.objects.count() == history


def test_the_sweep_takes_due_and_abandoned_items_in_group_order():
    ConnectionFactory()
    now = timezone.now()
    first = InvoiceFactory(finalize=True)
    second = InvoiceFactory(finalize=True)
    a0, _a1, _a2 = OutboxItem.objects.filter(invoice=first).order_by("position")
    b0, b1, _b2 = OutboxItem.objects.filter(invoice=second).order_by("position")
    # Fresh items belong to their after-commit dispatch, not to the sweep.
    assert services.outbox_sweep(now=now) == []
    later = now + timedelta(minutes=5)
    assert services.outbox_sweep(now=later) == [a0.pk, b0.pk]
    # b0 done, b1 held by a live worker; a0 scheduled for later.
    OutboxItem.objects.filter(pk=b0.pk).update(status=OutboxStatus.SUCCEEDED)
    OutboxItem.objects.filter(pk=b1.pk).update(
        status=OutboxStatus.IN_PROGRESS, lease_until=later + timedelta(minutes=1)
    )
    OutboxItem.objects.filter(pk=a0.pk).update(next_attempt_at=later + timedelta(minutes=1))
    assert services.outbox_sweep(now=later) == []
    # The lease ran out (its worker died) and a0's time came.
    assert services.outbox_sweep(now=later + timedelta(minutes=2)) == [a0.pk, b1.pk]


def test_pausing_and_reactivating_a_connection(django_capture_on_commit_callbacks):
    connection = ConnectionFactory()
    invoice = InvoiceFactory(finalize=True)
    assert services.outbox_pause(connection=connection, reason="revoked") == 3
    invoice.refresh_from_db()
    assert invoice.accounting_status == AccountingStatus.PAUSED
    services.connection_report_issue(connection=connection, kind="authentication", message="x")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.connection_update(connection=connection, status=ConnectionStatus.ACTIVE)
    statuses = list(OutboxItem.objects.order_by("position").values_list("status", flat=True))
    assert statuses == ["pending", "pending", "pending"]
    assert len(callbacks) == 1  # the first item is queued again
    invoice.refresh_from_db()
    assert invoice.accounting_status == AccountingStatus.PENDING


def test_admin_retry_now_requeues_failed_items(make_user, django_capture_on_commit_callbacks):
    ConnectionFactory()
    invoice = InvoiceFactory(finalize=True)
    item = OutboxItem.objects.get(invoice=invoice, position=0)
    OutboxItem.objects.filter(pk=item.pk).update(status=OutboxStatus.FAILED, last_error="422")
    admin_user = make_user(role="administrator")
    request = RequestFactory().post("/")
    request.user = admin_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    model_admin = OutboxItemAdmin(OutboxItem, site)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        model_admin.retry_now(request, OutboxItem.objects.filter(pk=item.pk))
    item.refresh_from_db()
    assert (item.status, item.next_attempt_at) == (OutboxStatus.PENDING, None)
    assert len(callbacks) == 1


def test_admin_lists_the_outbox(make_user, client):
    ConnectionFactory()
    InvoiceFactory(finalize=True)
    client.force_login(make_user(role="administrator", is_staff=True))
    response = client.get(reverse("admin:integrations_outboxitem_changelist"))
    assert response.status_code == 200
    assert b"Ensure the contact" in response.content
