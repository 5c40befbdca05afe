"""Push over real HTTP (the sandbox) with a real Celery worker process.

Each test finalizes invoices through the records services; the receiver writes the
outbox and, after commit, the worker pushes. Assertions are on the requests the
sandbox received, the outbox rows, the links and the emails the worker wrote.
"""

import os
import signal
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from integrations import services
from integrations.models import (
    ConnectionIssue,
    ConnectionStatus,
    ExternalLink,
    IssueKind,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    RemoteKind,
)
from integrations.providers.budget import RequestBudget, connection_key
from records import services as records_services
from records.models import AccountingStatus, Interface, Invoice, PaymentMethod
from records.tests.factories import ContactFactory, InvoiceFactory
from tests.support.workers import (
    database_url_for,
    start_worker,
    stop_process,
    worker_env,
    worker_mail_to,
)

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 25.0


def wait_for(predicate, *, timeout: float = TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def budget(sandbox):
    """The connection's shared request budget, fresh for each test (it lives in Redis
    and the sandbox URL is the same all session)."""
    budget = RequestBudget(connection_key(sandbox.api_url, sandbox.administration_id))
    budget.clear()
    yield budget
    budget.clear()


@pytest.fixture
def connect(sandbox, budget):
    def make(*, api_token=None):
        return services.connection_create(
            name="Sandbox", base_url=sandbox.api_url, administration_id=sandbox.administration_id,
            api_token=api_token or sandbox.token,
        )  # fmt: skip

    return make


@pytest.fixture
def employee(make_user):
    return make_user(role="employee", email=f"employee-{uuid.uuid4().hex[:8]}@example.com")


def path(sandbox, resource: str) -> str:
    return f"/api/v2/{sandbox.administration_id}/{resource}"


def finalized(contact, by):
    return InvoiceFactory(contact=contact, by=by, finalize=True)


def items_of(invoice) -> list[OutboxItem]:
    return list(OutboxItem.objects.filter(invoice=invoice).order_by("position"))


def sent(invoice) -> bool:
    return OutboxItem.objects.filter(
        invoice=invoice, kind=OutboxKind.SEND_INVOICE, status=OutboxStatus.SUCCEEDED
    ).exists()


def remote_ids_with_reference(sandbox, reference: str) -> list[str]:
    store = sandbox.server.store
    with store.lock:
        admin = store.administrations[sandbox.administration_id]
        return list(admin.invoices_by_reference.get(reference, ()))


def test_commit_then_fail_on_create_is_looked_up_not_created_twice(
    sandbox, connect, employee, celery_worker_process
):
    connection = connect()
    contact = ContactFactory(company_name="Once B.V.")
    sandbox.control.fault("commit_then_fail", method="POST", path="*/sales_invoices")

    invoice = finalized(contact, employee)
    wait_for(lambda: sent(invoice), what="the invoice to be sent")

    remote_ids = remote_ids_with_reference(sandbox, invoice.number)
    assert len(remote_ids) == 1
    remote_id = remote_ids[0]
    assert sandbox.control.calls() == [
        ("GET", path(sandbox, f"contacts/customer_id/{contact.customer_number}.json"), 404),
        ("POST", path(sandbox, "contacts.json"), 201),
        ("GET", path(sandbox, "tax_rates.json"), 200),
        ("POST", path(sandbox, "sales_invoices.json"), None),  # written, answer lost
        ("GET", path(sandbox, f"sales_invoices/find_by_reference/{invoice.number}.json"), 200),
        ("PATCH", path(sandbox, f"sales_invoices/{remote_id}/send_invoice.json"), 200),
    ]
    link = ExternalLink.objects.get(connection=connection, kind=RemoteKind.INVOICE,
                                    local_id=invoice.pk)  # fmt: skip
    assert link.remote_id == remote_id
    create = OutboxItem.objects.get(invoice=invoice, kind=OutboxKind.CREATE_INVOICE)
    assert (create.status, create.attempts, create.outcome_unknown) == ("succeeded", 2, False)
    invoice.refresh_from_db()
    remote = sandbox.server.store.administrations[sandbox.administration_id].invoices[remote_id]
    assert (invoice.accounting_status, invoice.accounting_remote_id,
            invoice.accounting_remote_number, invoice.accounting_last_error) == (
        AccountingStatus.SENT, remote_id, remote["invoice_id"], "")  # fmt: skip
    assert remote["state"] == "open"


def test_a_429_with_an_absolute_retry_after_stops_every_request_until_then(
    sandbox, connect, employee, celery_worker_process
):
    connect()
    sandbox.control.fault("rate_limit", method="POST", path="*/contacts", retry_after=3,
                          retry_after_form="epoch")  # fmt: skip
    first = finalized(ContactFactory(company_name="First B.V."), employee)
    second = finalized(ContactFactory(company_name="Second B.V."), employee)

    wait_for(lambda: sent(first) and sent(second), what="both invoices to be sent")

    log = sandbox.control.requests()
    limited = [i for i, r in enumerate(log) if r["status"] == 429]
    assert len(limited) == 1
    retry_at = int(log[limited[0]]["retry_after"])
    later = log[limited[0] + 1 :]
    assert later, "nothing was retried"
    assert all(r["time"] >= retry_at for r in later), [(r["path"], r["time"]) for r in later]
    assert [r["status"] for r in log].count(201) == 4  # two contacts, two invoices
    contact_item = OutboxItem.objects.get(invoice=first, kind=OutboxKind.ENSURE_CONTACT)
    assert contact_item.attempts == 2


def test_a_contact_the_provider_rejects_fails_alone_and_tells_who_finalized(
    sandbox, connect, employee, celery_worker_process
):
    connect()
    rejected = ContactFactory(company_name="Rejected B.V.")
    # A value the provider refuses (422) although ours accepted it.
    type(rejected).objects.filter(pk=rejected.pk).update(email="not an address")
    bad = finalized(rejected, employee)
    good = finalized(ContactFactory(company_name="Fine B.V."), employee)

    wait_for(lambda: sent(good), what="the other invoice to be sent")
    wait_for(lambda: items_of(bad)[0].status == OutboxStatus.FAILED, what="the failure")

    contact_item, create_item, send_item = items_of(bad)
    assert contact_item.last_error == "send_invoices_to_email is invalid"
    assert contact_item.attempts == 1
    assert (create_item.status, create_item.attempts) == ("pending", 0)
    assert (send_item.status, send_item.attempts) == ("pending", 0)
    calls = sandbox.control.calls()
    assert [c for c in calls if c[2] == 422] == [("POST", path(sandbox, "contacts.json"), 422)]
    bad.refresh_from_db()
    assert (bad.accounting_status, bad.accounting_last_error) == (
        AccountingStatus.FAILED, "send_invoices_to_email is invalid")  # fmt: skip
    good.refresh_from_db()
    assert good.accounting_status == AccountingStatus.SENT
    mails = wait_for(lambda: worker_mail_to(employee.email), what="the email")
    assert len(mails) == 1
    assert f"Invoice {bad.number} could not be sent" in mails[0]
    assert "send_invoices_to_email is invalid" in mails[0]
    # The failure is permanent: the sweep does not take it (or what waits on it) up.
    assert services.outbox_sweep(now=timezone.now() + timedelta(hours=1)) == []


def test_a_revoked_token_marks_the_connection_emails_once_and_pauses(
    sandbox, connect, employee, make_user, celery_worker_process
):
    admin = make_user(role="administrator", email=f"admin-{uuid.uuid4().hex[:8]}@example.com")
    connection = connect(api_token="revoked-token-0001")
    first = finalized(ContactFactory(company_name="One B.V."), employee)
    second = finalized(ContactFactory(company_name="Two B.V."), employee)

    mails = wait_for(lambda: worker_mail_to(admin.email), what="the email")
    wait_for(lambda: all(i.status == OutboxStatus.PAUSED for i in items_of(second)),
             what="the second invoice's items to be paused")  # fmt: skip

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_ATTENTION
    issue = ConnectionIssue.objects.get(connection=connection, resolved_at=None)
    assert issue.kind == IssueKind.AUTHENTICATION
    assert "The access token is invalid" in issue.message
    assert all(i.status == OutboxStatus.PAUSED for i in items_of(first) + items_of(second))
    assert services.outbox_sweep(now=timezone.now() + timedelta(hours=1)) == []
    time.sleep(1.0)  # room for a storm, if there were one
    assert sandbox.control.calls() == [
        ("GET", path(sandbox, "contacts/customer_id/" + first.contact.customer_number + ".json"),
         401),
    ]  # fmt: skip
    assert len(mails) == 1
    assert len(worker_mail_to(admin.email)) == 1
    assert f"The accounting connection {connection.name} needs attention" in mails[0]
    first.refresh_from_db()
    assert first.accounting_status == AccountingStatus.PAUSED

    # A new token and reactivating resumes the paused work; no second email.
    services.connection_update(connection=connection, api_token=sandbox.token,
                               status=ConnectionStatus.ACTIVE, by=admin)  # fmt: skip
    wait_for(lambda: sent(first) and sent(second), what="both invoices to be sent")
    assert len(worker_mail_to(admin.email)) == 1
    assert not ConnectionIssue.objects.filter(connection=connection, resolved_at=None).exists()


def test_a_worker_killed_mid_push_is_taken_over_after_its_lease_without_a_duplicate(
    sandbox, connect, employee, settings
):
    queue = f"push-kill-{uuid.uuid4().hex[:8]}"
    settings.INTEGRATIONS_PUSH_QUEUE = queue
    env = worker_env(
        database_url_for(db_connection.settings_dict),
        INTEGRATIONS_PUSH_QUEUE=queue,
        INTEGRATIONS_PUSH_LEASE_SECONDS="8",
    )
    args = ("-Q", queue)
    connect()
    sandbox.control.fault("slow", method="POST", path="*/sales_invoices", delay=2)
    first_worker = start_worker(env, extra_args=(*args, "-n", f"{queue}-a@%h"))
    second_worker = None
    try:
        invoice = finalized(ContactFactory(company_name="Killed B.V."), employee)
        wait_for(lambda: any(m == "POST" and p.endswith("/sales_invoices.json")
                             for m, p, _ in sandbox.control.calls()),
                 what="the create to reach the sandbox")  # fmt: skip
        os.kill(first_worker.pid, signal.SIGKILL)  # mid-request: the answer never arrives
        first_worker.wait(timeout=10)
        create = OutboxItem.objects.get(invoice=invoice, kind=OutboxKind.CREATE_INVOICE)
        assert create.status == OutboxStatus.IN_PROGRESS
        # The sandbox completes the write it was given.
        wait_for(lambda: remote_ids_with_reference(sandbox, invoice.number), what="the write")
        assert services.outbox_sweep() == []  # the lease still holds

        # The second worker starts after that check: its start can outlast the lease.
        second_worker = start_worker(env, extra_args=(*args, "-n", f"{queue}-b@%h"))
        wait_for(lambda: timezone.now() > create.lease_until, what="the lease to run out")
        assert services.outbox_sweep() == [create.pk]
        wait_for(lambda: sent(invoice), what="the invoice to be sent")
    finally:
        if second_worker is not None:
            stop_process(second_worker)
        if first_worker.poll() is None:
            first_worker.kill()

    remote_ids = remote_ids_with_reference(sandbox, invoice.number)
    assert len(remote_ids) == 1
    posts = [
        c
        for c in sandbox.control.calls()
        if c[:2] == ("POST", path(sandbox, "sales_invoices.json"))
    ]
    assert len(posts) == 1
    create.refresh_from_db()
    assert (create.status, create.attempts, create.outcome_unknown) == ("succeeded", 2, False)
    assert (
        ExternalLink.objects.get(kind=RemoteKind.INVOICE, local_id=invoice.pk).remote_id
        == (remote_ids[0])
    )
    assert Invoice.objects.get(pk=invoice.pk).accounting_status == AccountingStatus.SENT


def test_a_payment_registered_here_goes_out_after_the_invoice_is_sent(
    sandbox, connect, employee, celery_worker_process
):
    connection = connect()
    invoice = finalized(ContactFactory(company_name="Paying B.V."), employee)
    wait_for(lambda: sent(invoice), what="the invoice to be sent")
    invoice.refresh_from_db()
    payment = records_services.payment_register(
        invoice=invoice, amount=Decimal("5.00"), date=invoice.issue_date,
        method=PaymentMethod.BANK_TRANSFER, by=employee, via=Interface.API,
    )  # fmt: skip

    item = OutboxItem.objects.get(kind=OutboxKind.REGISTER_PAYMENT, object_id=payment.pk)
    assert item.position == 3
    wait_for(lambda: OutboxItem.objects.get(pk=item.pk).status == OutboxStatus.SUCCEEDED,
             what="the payment to go out")  # fmt: skip
    link = ExternalLink.objects.get(connection=connection, kind=RemoteKind.INVOICE,
                                    local_id=invoice.pk)  # fmt: skip
    payments = [c for c in sandbox.control.calls() if c[0] == "POST" and "payments" in c[1]]
    assert payments == [("POST", path(sandbox, f"sales_invoices/{link.remote_id}/payments.json"),
                         201)]  # fmt: skip
    remote = sandbox.server.store.administrations[sandbox.administration_id].invoices[
        link.remote_id
    ]
    assert [p["price"] for p in remote["payments"]] in (["5.0"], [Decimal("5.00")], ["5.00"])
    assert ExternalLink.objects.filter(kind=RemoteKind.PAYMENT, local_id=payment.pk).exists()
