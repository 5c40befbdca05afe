"""Fixtures for the records tests: API clients per role and a snapshot of every row."""

import pytest
from django.apps import apps


@pytest.fixture
def employee_client(role_client):
    return role_client("employee")


@pytest.fixture
def admin_client_api(role_client):
    return role_client("administrator")


def records_snapshot() -> dict:
    """Every row of every records table, to prove a failed request changed nothing."""
    return {
        model._meta.label: sorted(model.objects.order_by().values_list(), key=str)
        for model in apps.get_app_config("records").get_models()
    }


@pytest.fixture
def unchanged():
    """`with unchanged(): ...` asserts that no records row changed inside the block."""
    from contextlib import contextmanager

    @contextmanager
    def _unchanged():
        before = records_snapshot()
        yield
        assert records_snapshot() == before, "a failed request changed data"

    return _unchanged
