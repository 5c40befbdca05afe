"""`manage.py seed_demo`: the demo data set, once, through the services, with working logins."""

import re
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.selectors import user_role
from records import selectors, services
from records.models import ChangeRecord, Contact, Interface, Invoice, InvoiceStatus, Product

pytestmark = pytest.mark.django_db

LOGIN_RE = re.compile(r"^\s+(\w+)\s+(\S+@\S+) / (\S+)\s+\((created|exists)\)$", re.MULTILINE)


@pytest.fixture(autouse=True)
def debug(settings):
    settings.DEBUG = True


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = [*apps.get_app_config("records").get_models(), User]
    return {model._meta.label: model.objects.count() for model in models}


def test_seed_creates_users_contacts_products_and_invoices_in_every_state():
    output = seed()

    assert "created 3 users, 20 contacts, 30 products, 50 invoices" in output
    assert Contact.objects.count() == 20
    assert Product.objects.count() == 30
    assert Invoice.objects.count() == 50
    statuses = Counter(selectors.effective_status(i) for i in selectors.invoice_list().order_by())
    assert statuses == {"draft": 8, "open": 16, "late": 8, "paid": 12, "cancelled": 6}
    partly_paid = Invoice.objects.filter(status=InvoiceStatus.OPEN, total_paid__gt=0).exclude(
        selectors.late_q()
    )
    assert partly_paid.count() == 6
    assert all(0 < i.total_paid < i.total for i in partly_paid)
    paid = Invoice.objects.filter(status=InvoiceStatus.PAID)
    assert all(i.total_paid == i.total > 0 and i.number for i in paid)
    assert not Invoice.objects.filter(status=InvoiceStatus.DRAFT, number__isnull=False).exists()
    assert all(i.lines.exists() for i in Invoice.objects.all())
    roles = {user.email: user_role(user) for user in User.objects.all()}
    assert roles == {
        "administrator@example.com": "administrator",
        "employee@example.com": "employee",
        "viewer@example.com": "viewer",
    }
    assert User.objects.filter(is_verified=True).count() == 3
    assert set(ChangeRecord.objects.values_list("via", flat=True)) == {Interface.SYSTEM}


def test_a_second_run_creates_nothing_and_says_so():
    seed()
    before = row_counts()

    output = seed()

    assert row_counts() == before
    assert "already present, nothing new created" in output
    assert [m[3] for m in LOGIN_RE.findall(output)] == ["exists"] * 3


def test_a_deleted_demo_invoice_is_recreated_and_nothing_else():
    seed()
    draft = Invoice.objects.filter(status=InvoiceStatus.DRAFT).first()
    notes = draft.notes
    services.invoice_delete(invoice=draft, by=None, via=Interface.ADMIN)

    output = seed()

    assert "created 1 invoices" in output
    assert Invoice.objects.count() == 50
    assert Invoice.objects.get(notes=notes).status == InvoiceStatus.DRAFT


def test_the_printed_logins_authenticate_through_the_login_api():
    logins = LOGIN_RE.findall(seed())
    assert [role for role, *_ in logins] == ["administrator", "employee", "viewer"]

    for role, email, password, _ in logins:
        client = APIClient()
        response = client.post(
            reverse("auth-login"),
            {"email": email, "password": password, "client": "app"},
            format="json",
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
        me = client.get("/api/v1/users/me/")
        assert me.status_code == 200
        assert (me.json()["email"], me.json()["role"]) == (email, role)


def test_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert Invoice.objects.count() == 0
