"""`run_sandbox --data-file` (as `make run` starts it): the store outlives a restart, so
a second `make run` still finds the invoices and contacts the first one pushed."""

import os
import pickle

import httpx
import pytest

from sandbox import SandboxControl, SandboxServer

TOKEN = "persistence-test-token"


def _serve(path):
    return SandboxServer(token=TOKEN, rate_limit=False, data_file=path).start()


def _contacts(server) -> dict[str, dict]:
    url = f"{server.api_url}/{server.administration_id}/contacts.json"
    rows = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, params={"per_page": 100})
    return {row["customer_id"]: row for row in rows.json()}


def _invoices(server) -> dict[str, dict]:
    url = f"{server.api_url}/{server.administration_id}/sales_invoices.json"
    rows = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, params={"per_page": 100})
    return {row["id"]: row for row in rows.json()}


def test_invoices_with_payments_survive_a_restart(tmp_path):
    """Amounts are Decimals inside the store: they come back exactly."""
    data_file = tmp_path / "sandbox.store"
    first = _serve(data_file)
    try:
        control = SandboxControl(first.base_url)
        control.seed(contacts=3, sales_invoices=6)  # every third one paid
        before = _invoices(first)
    finally:
        control.close()
        first.stop()
    assert any(row["state"] == "paid" for row in before.values())

    second = _serve(data_file)
    try:
        assert _invoices(second) == before
    finally:
        second.stop()


def test_a_tampered_store_file_cannot_run_code(tmp_path):
    data_file = tmp_path / "sandbox.store"
    data_file.write_bytes(pickle.dumps(os.system))  # a pickle that would name a function
    with pytest.raises(ValueError, match="not part of a sandbox snapshot"):
        SandboxServer(token=TOKEN, rate_limit=False, data_file=data_file)


def test_changes_survive_a_restart_and_ids_continue(tmp_path):
    data_file = tmp_path / "sandbox.store"
    first = _serve(data_file)
    try:
        created = httpx.post(
            f"{first.api_url}/{first.administration_id}/contacts.json",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"contact": {"company_name": "Persisted B.V.", "customer_id": "LB-PERSIST"}},
        )
        assert created.status_code == 201
        before = _contacts(first)
    finally:
        first.stop()
    assert data_file.exists()

    second = _serve(data_file)
    try:
        after = _contacts(second)
        assert after == before
        assert after["LB-PERSIST"]["company_name"] == "Persisted B.V."
        another = httpx.post(
            f"{second.api_url}/{second.administration_id}/contacts.json",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"contact": {"company_name": "Later B.V.", "customer_id": "LB-LATER"}},
        ).json()
        assert int(another["id"]) > max(int(row["id"]) for row in before.values())
    finally:
        second.stop()


def test_without_a_data_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server = SandboxServer(token=TOKEN, rate_limit=False).start()
    try:
        httpx.post(
            f"{server.api_url}/{server.administration_id}/contacts.json",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"contact": {"company_name": "Memory Only"}},
        )
    finally:
        server.stop()
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_data_file_is_refused_not_overwritten(tmp_path):
    data_file = tmp_path / "sandbox.store"
    data_file.write_bytes(pickle.dumps({"format": 99}))
    with pytest.raises(ValueError, match="unknown sandbox snapshot format"):
        SandboxServer(token=TOKEN, rate_limit=False, data_file=data_file)
    assert pickle.loads(data_file.read_bytes()) == {"format": 99}
    data_file.write_text("not a snapshot at all")
    with pytest.raises(ValueError, match="not a sandbox snapshot"):
        SandboxServer(token=TOKEN, rate_limit=False, data_file=data_file)
