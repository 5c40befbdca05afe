"""Moneybird's rules as the sandbox plays them, and its control API."""

from datetime import date

import httpx
import pytest


@pytest.fixture
def http(sandbox):
    with httpx.Client(headers=sandbox.headers(), timeout=10) as client:
        yield client


def make_contact(http, sandbox, **attrs) -> dict:
    attrs.setdefault("company_name", "Acme B.V.")
    response = http.post(sandbox.url("contacts.json"), json={"contact": attrs})
    assert response.status_code == 201, response.text
    return response.json()


def make_invoice(http, sandbox, contact_id: str, **attrs) -> dict:
    attrs.setdefault("details_attributes", [{"description": "Work", "price": "100", "amount": "1"}])
    response = http.post(sandbox.url("sales_invoices.json"),
                         json={"sales_invoice": {"contact_id": contact_id, **attrs}})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def test_paths_work_with_and_without_the_json_suffix(http, sandbox):
    with_suffix = http.get(sandbox.url("contacts.json")).json()
    without = http.get(sandbox.url("contacts")).json()
    assert with_suffix == without
    assert len(without) == 3


def test_ids_are_numeric_strings_and_amounts_decimal_strings(http, sandbox):
    contact = make_contact(http, sandbox)
    invoice = make_invoice(http, sandbox, contact["id"])
    assert isinstance(contact["id"], str)
    assert contact["id"].isdigit()
    assert (invoice["total_price_excl_tax"], invoice["total_price_incl_tax"]) == ("100.0", "121.0")
    assert invoice["details"][0]["price"] == "100.0"


def test_every_change_bumps_version_including_a_persons_edit(http, sandbox):
    sandbox.control.clock(freeze=True)
    contact = make_contact(http, sandbox, customer_id="V1")
    patched = http.patch(sandbox.url(f"contacts/{contact['id']}.json"),
                         json={"contact": {"city": "Delft"}}).json()  # fmt: skip
    by_person = sandbox.control.person_edit_contact(contact["id"], city="Leiden")
    sandbox.control.clock(advance=3600)
    later = sandbox.control.person_edit_contact(contact["id"], city="Gouda")
    assert patched["version"] == contact["version"] + 1  # same second: still a new version
    assert by_person["version"] == contact["version"] + 2
    assert later["version"] == contact["version"] + 3600
    assert sandbox.control.calls()[-1][0] == "PATCH"  # person edits are not API requests
    assert [c[0] for c in sandbox.control.calls()] == ["POST", "PATCH"]


def test_a_person_deleting_a_contact_makes_its_id_disappear_from_synchronization(http, sandbox):
    contact = make_contact(http, sandbox)
    sandbox.control.person_delete_contact(contact["id"])
    ids = {row["id"] for row in http.get(sandbox.url("contacts/synchronization.json")).json()}
    assert contact["id"] not in ids
    assert len(ids) == 3


def test_a_person_registering_a_payment_marks_the_invoice_paid(http, sandbox):
    invoice = make_invoice(http, sandbox, make_contact(http, sandbox)["id"])
    sent = sandbox.control.person_send_invoice(invoice["id"])
    payment = sandbox.control.person_register_payment(
        invoice["id"], price="121.00", payment_date=date.today().isoformat()
    )
    after = http.get(sandbox.url(f"sales_invoices/{invoice['id']}.json")).json()
    assert (after["state"], after["total_unpaid"], after["total_paid"]) == ("paid", "0.0", "121.0")
    assert [p["id"] for p in after["payments"]] == [payment["id"]]
    assert after["version"] > sent["version"]


def test_invoices_are_numbered_per_year_when_sent(http, sandbox):
    contact_id = make_contact(http, sandbox)["id"]
    year = date.today().year
    numbers = []
    for _ in range(3):
        draft = make_invoice(http, sandbox, contact_id)
        assert (draft["state"], draft["invoice_id"]) == ("draft", None)
        sent = http.patch(sandbox.url(f"sales_invoices/{draft['id']}/send_invoice.json"), json={})
        numbers.append(sent.json()["invoice_id"])
    assert numbers == [f"{year}-0001", f"{year}-0002", f"{year}-0003"]


def test_totals_per_tax_rate_with_discount_and_rounding(http, sandbox):
    rates = {r["name"]: r["id"] for r in http.get(sandbox.url("tax_rates.json")).json()}
    invoice = make_invoice(http, sandbox, make_contact(http, sandbox)["id"], discount="10",
                           details_attributes=[
                               {"description": "A", "price": "19.99", "amount": "3",
                                "tax_rate_id": rates["21% btw"]},
                               {"description": "B", "price": "5.55", "amount": "2 x",
                                "tax_rate_id": rates["9% btw"]},
                           ])  # fmt: skip
    # A: 59.97 -> 53.97 after 10%; B: 11.10 -> 9.99; tax 11.33 + 0.90
    assert invoice["total_price_excl_tax"] == "63.96"
    assert invoice["total_discount"] == "7.11"
    assert [(t["taxable_amount"], t["tax_amount"]) for t in invoice["tax_totals"]] == [
        ("53.97", "11.33"), ("9.99", "0.9")]  # fmt: skip
    assert invoice["total_price_incl_tax"] == "76.19"


def test_the_invoice_list_defaults_to_this_year(http, sandbox):
    contact_id = make_contact(http, sandbox)["id"]
    last_year = date(date.today().year - 1, 6, 1).isoformat()
    old = make_invoice(http, sandbox, contact_id, invoice_date=last_year)
    new = make_invoice(http, sandbox, contact_id)
    default = [i["id"] for i in http.get(sandbox.url("sales_invoices.json")).json()]
    previous = http.get(sandbox.url("sales_invoices.json"), params={"filter": "period:prev_year"})
    assert default == [new["id"]]
    assert [i["id"] for i in previous.json()] == [old["id"]]


def test_synchronization_post_returns_at_most_100(http, sandbox):
    sandbox.control.seed(contacts=150)
    ids = [row["id"] for row in http.get(sandbox.url("contacts/synchronization.json")).json()]
    fetched = http.post(sandbox.url("contacts/synchronization.json"), json={"ids": ids}).json()
    assert len(ids) == 153
    assert [c["id"] for c in fetched] == ids[:100]


def test_per_page_above_100_is_a_400_with_moneybirds_body(http, sandbox):
    response = http.get(sandbox.url("contacts.json"), params={"per_page": 101})
    assert response.status_code == 400
    assert response.json() == {"error": "Per Page is too big", "symbolic": {"per_page": "max"}}


def test_customer_id_is_unique(http, sandbox):
    make_contact(http, sandbox, customer_id="U1")
    response = http.post(
        sandbox.url("contacts.json"),
        json={"contact": {"company_name": "Other", "customer_id": "U1"}},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": {"customer_id": ["is already in use"]},
        "details": {"customer_id": [{"error": "taken", "value": "U1"}]},
    }


def test_the_rate_limit_window_and_its_headers(http, sandbox):
    sandbox.control.rate_limit(enabled=True, limit=2, window=300)
    sandbox.control.clock(freeze=True)
    now = int(sandbox.control.clock()["now"])
    first, second, third = (http.get(sandbox.url("tax_rates.json")) for _ in range(3))
    assert [r.status_code for r in (first, second, third)] == [200, 200, 429]
    assert (first.headers["RateLimit-Remaining"], second.headers["RateLimit-Remaining"]) == (
        "1",
        "0",
    )
    assert third.text == "Retry later"
    assert now + 300 <= int(third.headers["Retry-After"]) <= now + 301
    sandbox.control.clock(advance=301)
    assert http.get(sandbox.url("tax_rates.json")).status_code == 200


def test_a_probability_fault_is_seeded_and_repeatable(http, sandbox):
    def run() -> list[int]:
        sandbox.control.reset()
        sandbox.control.fault("error", method="GET", path="*/tax_rates", status=500,
                              probability=0.5, seed=7)  # fmt: skip
        return [http.get(sandbox.url("tax_rates.json")).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}


def test_control_api_rejects_a_bad_fault_plan(sandbox):
    with pytest.raises(httpx.HTTPStatusError) as error:
        sandbox.control.fault("explode")
    assert error.value.response.status_code == 400


def test_bulk_seed_for_the_benchmark(http, sandbox):
    counts = sandbox.control.seed(contacts=50_000, sales_invoices=20_000)
    assert counts == {"contacts": 50_003, "sales_invoices": 20_000}
    contacts = http.get(sandbox.url("contacts/synchronization.json")).json()
    invoices = http.get(sandbox.url("sales_invoices/synchronization.json")).json()
    assert (len(contacts), len(invoices)) == (50_003, 20_000)
    batch = http.post(sandbox.url("sales_invoices/synchronization.json"),
                      json={"ids": [i["id"] for i in invoices[:100]]}).json()  # fmt: skip
    assert len(batch) == 100
    assert {i["state"] for i in batch} == {"open", "paid"}
