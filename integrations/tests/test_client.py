"""The Moneybird client against the sandbox over real loopback HTTP, faults injected."""

import logging
import threading
import time
import uuid
from datetime import date
from decimal import Decimal
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from integrations.providers.base import (
    AccessDenied,
    AuthenticationFailed,
    BadRequest,
    BudgetExhausted,
    ContactData,
    InvoiceData,
    InvoiceLine,
    MissingScope,
    NeedsAttentionError,
    NetworkError,
    PaymentRequired,
    ProviderTimeout,
    RateLimited,
    RecordError,
    RedirectRefused,
    RetryableError,
    ServerError,
    UnsafeURL,
    ValidationFailed,
)  # fmt: skip
from integrations.providers.budget import RequestBudget
from integrations.providers.moneybird import MoneybirdClient


@pytest.fixture
def budget_key():
    """A budget of its own per test (real Redis), removed afterwards."""
    budget = RequestBudget(uuid.uuid4().hex, prefix="test:budget")
    yield budget
    budget.clear()


@pytest.fixture
def make_client(sandbox, budget_key):
    clients = []

    def make(*, token=None, budget=None, **options) -> MoneybirdClient:
        options.setdefault("retry_base", 0.05)
        client = MoneybirdClient(
            base_url=sandbox.api_url,
            administration_id=sandbox.administration_id,
            token=token or sandbox.token,
            budget=budget or budget_key,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def admin_path(sandbox, resource: str) -> str:
    return f"/api/v2/{sandbox.administration_id}/{resource}"


# --- pagination and the happy paths ---------------------------------------------------
def test_pagination_follows_link_across_many_pages(sandbox, make_client):
    sandbox.control.seed(contacts=247)  # + 3 demo contacts
    contacts = list(make_client().iter_contacts())
    assert len(contacts) == 250
    assert len({c.id for c in contacts}) == 250
    log = sandbox.control.requests()
    assert [(r["method"], r["path"], r["query"], r["status"]) for r in log] == [
        ("GET", admin_path(sandbox, "contacts.json"), "per_page=100", 200),
        ("GET", admin_path(sandbox, "contacts.json"), "per_page=100&page=2", 200),
        ("GET", admin_path(sandbox, "contacts.json"), "per_page=100&page=3", 200),
    ]


def test_upsert_contact_creates_then_updates_by_our_key(sandbox, make_client):
    client = make_client()
    data = ContactData(key="LB-42", company_name="Acme B.V.", email="billing@acme.test")
    created = client.upsert_contact(data)
    updated = client.upsert_contact(ContactData(key="LB-42", company_name="Acme Holding B.V."))
    assert (created.key, created.company_name, created.email) == ("LB-42", "Acme B.V.",
                                                                   "billing@acme.test")  # fmt: skip
    assert (updated.id, updated.company_name) == (created.id, "Acme Holding B.V.")
    assert updated.version > created.version
    contact = admin_path(sandbox, f"contacts/{created.id}.json")
    assert sandbox.control.calls() == [
        ("GET", admin_path(sandbox, "contacts/customer_id/LB-42.json"), 404),
        ("POST", admin_path(sandbox, "contacts.json"), 201),
        ("GET", admin_path(sandbox, "contacts/customer_id/LB-42.json"), 200),
        ("PATCH", contact, 200),
    ]


def test_sync_listing_and_fetch_in_batches_of_100(sandbox, make_client):
    sandbox.control.seed(contacts=197)
    client = make_client()
    versions = client.list_contact_versions()
    fetched = client.fetch_contacts([v.id for v in versions])
    assert len(versions) == 200
    assert [c.id for c in fetched] == [v.id for v in versions]
    assert [m for m, _, _ in sandbox.control.calls()] == ["GET", "POST", "POST"]


def test_invoice_lifecycle_with_exact_decimal_totals(sandbox, make_client):
    client = make_client()
    contact = client.upsert_contact(ContactData(key="C1", company_name="Acme"))
    draft = client.create_invoice(InvoiceData(
        contact_id=contact.id, reference="LB-2026-7", invoice_date=date.today(),
        lines=(InvoiceLine("Work", Decimal("3"), Decimal("100.10")),
               InvoiceLine("Travel", Decimal("1"), Decimal("0.05"))),
    ))  # fmt: skip
    assert (draft.state, draft.number) == ("draft", None)
    assert (draft.total_excl_tax, draft.total_incl_tax) == (Decimal("300.35"), Decimal("363.42"))
    sent = client.send_invoice(draft.id)
    assert (sent.state, sent.number) == ("open", f"{date.today().year}-0001")
    assert sent.version > draft.version
    payment = client.register_payment(sent.id, amount=Decimal("363.42"),
                                      payment_date=date.today())  # fmt: skip
    assert payment.amount == Decimal("363.42")
    assert client.list_payments(sent.id) == [payment]
    found = client.find_invoice("LB-2026-7")
    assert (found.id, found.state, found.total_unpaid) == (sent.id, "paid", Decimal("0"))
    assert client.find_invoice("LB-unknown") is None


@pytest.mark.parametrize("key", ["LB/2026/7", "a?b=1", "x#y", "50% off", "../../administrations"])
def test_keys_and_references_are_one_escaped_path_segment(sandbox, make_client, key):
    client = make_client()
    created = client.upsert_contact(ContactData(key=key, company_name="Odd Key B.V."))
    again = client.upsert_contact(ContactData(key=key, company_name="Odd Key Holding B.V."))
    assert (created.key, again.id, again.company_name) == (key, created.id, "Odd Key Holding B.V.")
    invoice = client.create_invoice(InvoiceData(contact_id=created.id, reference=key,
                                                invoice_date=date.today(), lines=()))  # fmt: skip
    assert client.find_invoice(key).id == invoice.id
    paths = {path for _, path, _ in sandbox.control.calls()}
    assert all(p.startswith(admin_path(sandbox, "")) for p in paths)
    assert admin_path(sandbox, "contacts.json") in paths  # created exactly once:
    assert [m for m, p, _ in sandbox.control.calls() if p.endswith("/contacts.json")] == ["POST"]


@pytest.mark.parametrize("remote_id", ["1/../../2", "abc", ""])
def test_a_non_numeric_remote_id_is_refused_before_any_request(sandbox, make_client, remote_id):
    client = make_client()
    for call in (lambda: client.send_invoice(remote_id), lambda: client.list_payments(remote_id),
                 lambda: client.register_payment(remote_id, amount=Decimal(1),
                                                 payment_date=date.today()),
                 lambda: client.upsert_contact(ContactData(key="K", company_name="A"),
                                               remote_id=remote_id)):  # fmt: skip
        with pytest.raises(BadRequest):
            call()
    assert sandbox.control.calls() == []


# --- Retry-After in each form ------------------------------------------------------------
@pytest.mark.parametrize("form", ["epoch", "seconds", "http_date", "missing"])
def test_each_retry_after_form_is_honoured(sandbox, make_client, form):
    sandbox.control.fault("rate_limit", method="GET", path="*/contacts/synchronization",
                          retry_after=1, retry_after_form=form)  # fmt: skip
    client = make_client(max_wait=5, default_retry_after=1.0)
    assert len(client.list_contact_versions()) == 3
    first, second = sandbox.control.requests()
    assert (first["status"], second["status"]) == (429, 200)
    header = first["retry_after"]
    if form == "epoch":
        not_before = float(header)
    elif form == "seconds":
        not_before = first["time"] + int(header)
    elif form == "http_date":
        not_before = parsedate_to_datetime(header).timestamp()
    else:
        assert header is None
        not_before = first["time"] + 1.0
    assert second["time"] >= not_before


def test_a_429_pauses_every_worker_on_the_connection_until_retry_at(sandbox, make_client,
                                                                   budget_key):  # fmt: skip
    sandbox.control.fault("rate_limit", method="GET", path="*", retry_after=120)
    with pytest.raises(RateLimited) as first:
        make_client().list_contact_versions()
    assert first.value.retry_at >= time.time() + 100
    other_worker = make_client(budget=RequestBudget(budget_key._log_key.split(":")[2],
                                                    prefix="test:budget"))  # fmt: skip
    with pytest.raises(BudgetExhausted) as second:
        other_worker.list_contact_versions()
    assert second.value.retry_at == first.value.retry_at
    assert [s for _, _, s in sandbox.control.calls()] == [429]  # nothing else was sent


# --- retries, timeouts, dropped connections -----------------------------------------------
def test_reads_retry_with_backoff_on_5xx(sandbox, make_client):
    sandbox.control.fault("error", method="GET", path="*/contacts/synchronization", status=503,
                          times=2)  # fmt: skip
    assert len(make_client(retries=2).list_contact_versions()) == 3
    assert [s for _, _, s in sandbox.control.calls()] == [503, 503, 200]


def test_reads_give_up_after_their_retries_as_retryable(sandbox, make_client):
    sandbox.control.fault("error", method="GET", path="*", status=502, times=5)
    with pytest.raises(ServerError) as error:
        make_client(retries=2).list_contact_versions()
    assert isinstance(error.value, RetryableError)
    assert error.value.status == 502
    assert [s for _, _, s in sandbox.control.calls()] == [502, 502, 502]


def test_a_write_is_never_retried_in_call(sandbox, make_client):
    sandbox.control.fault("error", method="POST", path="*/contacts", status=500)
    with pytest.raises(ServerError):
        make_client(retries=2).upsert_contact(ContactData(key="K1", company_name="Acme"))
    assert [(m, s) for m, _, s in sandbox.control.calls()] == [("GET", 404), ("POST", 500)]


def test_a_slow_response_times_out_as_retryable(sandbox, make_client):
    sandbox.control.fault("slow", method="GET", path="*", delay=3)
    with pytest.raises(ProviderTimeout) as error:
        make_client(read_timeout=0.3, retries=0).list_contact_versions()
    assert isinstance(error.value, RetryableError)


def test_a_dropped_connection_is_a_retryable_network_error(sandbox, make_client):
    sandbox.control.fault("drop", method="GET", path="*")
    with pytest.raises(NetworkError):
        make_client(retries=0).list_contact_versions()
    assert sandbox.control.calls() == [
        ("GET", admin_path(sandbox, "contacts/synchronization.json"), None)
    ]


def test_commit_then_fail_is_found_by_our_key_instead_of_created_twice(sandbox, make_client):
    sandbox.control.fault("commit_then_fail", method="POST", path="*/contacts")
    client = make_client()
    with pytest.raises(NetworkError):
        client.upsert_contact(ContactData(key="K7", company_name="Lost Answer B.V."))
    found = client.find_contact("K7")
    assert found is not None
    assert found.company_name == "Lost Answer B.V."
    posts = [c for c in sandbox.control.calls() if c[0] == "POST"]
    assert posts == [("POST", admin_path(sandbox, "contacts.json"), None)]  # exactly one POST


# --- needs a person, permanent for one record ------------------------------------------------
def test_401_bad_token_needs_a_person(sandbox, make_client):
    with pytest.raises(AuthenticationFailed) as error:
        make_client(token="revoked").list_contact_versions()
    assert isinstance(error.value, NeedsAttentionError)
    assert error.value.status == 401


def test_401_missing_scope_needs_a_person(sandbox, make_client):
    sandbox.control.add_token("docs-only", ["documents"])
    with pytest.raises(MissingScope) as error:
        make_client(token="docs-only").list_contact_versions()
    assert error.value.message == "No access to [:sales_invoices]"


def test_402_plan_limit_needs_a_person(sandbox, make_client):
    client = make_client()
    contact = client.upsert_contact(ContactData(key="P1", company_name="Acme"))
    sandbox.control.plan(max_sales_invoices=0)
    with pytest.raises(PaymentRequired) as error:
        client.create_invoice(InvoiceData(contact_id=contact.id, reference="R1",
                                          invoice_date=date(2026, 1, 5), lines=()))  # fmt: skip
    assert isinstance(error.value, NeedsAttentionError)
    assert error.value.message == "creating sales invoices is limited"


def test_422_carries_the_providers_field_messages(sandbox, make_client):
    client = make_client()
    client.upsert_contact(ContactData(key="DUP", company_name="First"))
    with pytest.raises(ValidationFailed) as error:
        client.request(
            "POST",
            "contacts.json",
            json_body={"contact": {"company_name": "Second", "customer_id": "DUP"}},
        )
    assert isinstance(error.value, RecordError)
    assert error.value.field_errors == {"customer_id": ["is already in use"]}
    assert str(error.value).startswith("customer_id is already in use [422]")


def test_404_is_permanent_for_that_record(sandbox, make_client):
    with pytest.raises(RecordError) as error:
        make_client().send_invoice("1")
    assert error.value.status == 404


# --- credentials, URL policy, redirects -------------------------------------------------
def test_the_token_never_appears_in_reprs_errors_or_logs(sandbox, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(token=sandbox.token)
    sandbox.control.fault("error", method="GET", path="*", status=503, times=5)
    with pytest.raises(ServerError) as error:
        client.list_contact_versions()
    with pytest.raises(AuthenticationFailed) as auth_error:
        make_client(token="wrong-secret-token").check()
    texts = [repr(client), str(error.value), repr(error.value), str(auth_error.value),
             repr(auth_error.value), repr(client.budget), caplog.text]  # fmt: skip
    assert caplog.text  # httpx did log the requests
    for text in texts:
        assert sandbox.token not in text
        assert "wrong-secret-token" not in text


@pytest.mark.parametrize("url", [
    "http://moneybird.com/api/v2",            # plain http to the provider
    "https://evil.example/api/v2",            # another host
    "https://10.0.0.5/api/v2",                # private range
    "https://169.254.169.254/latest",         # link-local (cloud metadata)
    "http://192.168.1.10:8000/api/v2",
    "ftp://moneybird.com/api/v2",             # another scheme
    "file:///etc/passwd",
    "https://user:pw@moneybird.com/api/v2",   # credentials in the URL
    "http://127.0.0.1:1/api/v2",              # loopback, but local URLs are off
])  # fmt: skip
def test_unsafe_urls_are_refused_before_any_request(url, settings):
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = False
    with pytest.raises(UnsafeURL):
        MoneybirdClient(base_url=url, administration_id="1", token="t")


def test_production_url_and_local_urls_when_allowed(settings, budget_key):
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = False
    assert MoneybirdClient(administration_id="1", token="t", budget=budget_key).base_url == (
        "https://moneybird.com/api/v2"
    )
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = True
    local = MoneybirdClient(base_url="http://127.0.0.1:9/api/v2/", administration_id="1",
                            token="t", budget=budget_key)  # fmt: skip
    assert local.base_url == "http://127.0.0.1:9/api/v2"
    with pytest.raises(UnsafeURL):
        MoneybirdClient(base_url="http://10.1.2.3/api/v2", administration_id="1", token="t")


class _Redirecting(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class _Forbidding(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"error":"Forbidden"}'
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_403_needs_a_person(settings, budget_key):
    """Moneybird documents no 403 for these endpoints; a gateway in front may send one.
    Retrying cannot help and it is not about one record: the connection needs a person."""
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = True
    server = HTTPServer(("127.0.0.1", 0), _Forbidding)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = MoneybirdClient(base_url=f"http://127.0.0.1:{server.server_port}/api/v2",
                                 administration_id="1", token="t", budget=budget_key)  # fmt: skip
        with pytest.raises(AccessDenied) as error:
            client.list_contact_versions()
        assert isinstance(error.value, NeedsAttentionError)
        assert (error.value.status, error.value.message) == (403, "Forbidden")
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_is_refused_and_not_followed(settings, budget_key):
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = True
    server = HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = MoneybirdClient(base_url=f"http://127.0.0.1:{server.server_port}/api/v2",
                                 administration_id="1", token="t", budget=budget_key)  # fmt: skip
        with pytest.raises(RedirectRefused) as error:
            client.list_contact_versions()
        assert error.value.status == 302
    finally:
        server.shutdown()
        server.server_close()
