"""Selectors: which rows a viewer sees (every role all records; no view permission none)."""

import pytest

from records import selectors
from records.tests.factories import InvoiceFactory, ProductFactory

pytestmark = pytest.mark.django_db

LISTS = [
    selectors.tax_rate_list,
    selectors.contact_list,
    selectors.product_list,
    selectors.invoice_list,
]


@pytest.mark.parametrize("role", ["viewer", "employee", "administrator"])
def test_every_role_sees_every_record(make_user, role):
    InvoiceFactory()
    ProductFactory(sku="SEEN")
    user = make_user(role=role)

    for rows in LISTS:
        assert rows(viewer=user).count() == rows().count() > 0


def test_a_user_without_a_role_sees_nothing(make_user):
    InvoiceFactory()
    ProductFactory(sku="UNSEEN")
    user = make_user(role=None)

    for rows in LISTS:
        assert rows(viewer=user).count() == 0
        assert rows().count() > 0
