"""Every endpoint the sandbox serves, success and error, against Moneybird's description."""

import re

import httpx
import pytest

from . import openapi


@pytest.fixture
def api(sandbox):
    """Call the sandbox and validate each answer against the description; keeps score."""
    seen: set[tuple[str, str, int]] = set()
    http = httpx.Client(base_url=f"{sandbox.api_url}/", headers=sandbox.headers(), timeout=10)

    def call(method: str, path: str, expected: int, json=None, token=None) -> httpx.Response:
        path = path.replace("{admin}", sandbox.administration_id)
        headers = sandbox.headers(token) if token else None
        response = http.request(method, path.lstrip("/"), json=json, headers=headers)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        template, status = openapi.validate(response)
        seen.add((method, template, status))
        return response

    call.seen = seen
    yield call
    http.close()


def test_every_served_operation_matches_the_description(api, sandbox):
    # administrations, tax rates, ledger accounts
    assert api("GET", "/administrations.json", 200).json()[0]["id"] == sandbox.administration_id
    api("GET", "/administrations", 200)
    api("GET", "/administrations.json", 401, token="wrong")
    rates = api("GET", "/{admin}/tax_rates.json", 200).json()
    api("GET", "/{admin}/tax_rates.json?per_page=101", 400)
    accounts = api("GET", "/{admin}/ledger_accounts.json", 200).json()
    revenue = next(a for a in accounts if a["account_type"] == "revenue")
    api("GET", f"/{{admin}}/ledger_accounts/{revenue['id']}.json", 200)
    api("GET", "/{admin}/ledger_accounts/1.json", 404)
    api("GET", "/999/ledger_accounts.json", 404)  # not an administration of this token

    # contacts
    contact = api(
        "POST",
        "/{admin}/contacts.json",
        201,
        json={
            "contact": {
                "company_name": "Acme B.V.",
                "customer_id": "C-1",
                "send_invoices_to_email": "billing@acme.test",
            }
        },
    ).json()
    api(
        "POST",
        "/{admin}/contacts.json",
        422,
        json={"contact": {"company_name": "Dup", "customer_id": "C-1"}},
    )
    api("POST", "/{admin}/contacts.json", 400, json={"company_name": "unwrapped"})
    api("GET", "/{admin}/contacts.json?per_page=2", 200)
    api("GET", "/{admin}/contacts.json?per_page=500", 400)
    api("GET", "/{admin}/contacts/filter.json?filter=first_name:jan", 200)
    api("GET", "/{admin}/contacts/filter.json?filter=colour:red", 400)
    api("GET", f"/{{admin}}/contacts/{contact['id']}.json", 200)
    api("GET", "/{admin}/contacts/1.json", 404)
    api(
        "PATCH",
        f"/{{admin}}/contacts/{contact['id']}.json",
        200,
        json={"contact": {"city": "Delft"}},
    )
    api(
        "PATCH",
        f"/{{admin}}/contacts/{contact['id']}.json",
        422,
        json={"contact": {"company_name": "", "firstname": "", "lastname": ""}},
    )
    api("PATCH", f"/{{admin}}/contacts/{contact['id']}.json", 400, json={})
    api("PATCH", "/{admin}/contacts/1.json", 404, json={"contact": {"city": "Delft"}})
    api("GET", "/{admin}/contacts/customer_id/C-1.json", 200)
    api("GET", "/{admin}/contacts/customer_id/nope.json", 404)
    api("GET", "/{admin}/contacts/synchronization.json", 200)
    api("GET", "/{admin}/contacts/synchronization.json?filter=updated_after:yesterday", 400)
    api("POST", "/{admin}/contacts/synchronization.json", 200, json={"ids": [contact["id"]]})
    api("POST", "/{admin}/contacts/synchronization.json", 400, json={})

    # products
    product = api(
        "POST",
        "/{admin}/products.json",
        201,
        json={
            "product": {
                "title": "Hour",
                "price": "80.00",
                "identifier": "H-1",
                "ledger_account_id": revenue["id"],
                "tax_rate_id": rates[0]["id"],
            }
        },
    ).json()
    api(
        "POST",
        "/{admin}/products.json",
        422,
        json={"product": {"price": "1", "ledger_account_id": revenue["id"], "identifier": "H-1"}},
    )
    api("GET", "/{admin}/products.json", 200)
    api("GET", "/{admin}/products.json?page=0", 400)
    api("GET", f"/{{admin}}/products/{product['id']}.json", 200)
    api("GET", "/{admin}/products/1.json", 404)
    api(
        "PATCH", f"/{{admin}}/products/{product['id']}.json", 200, json={"product": {"price": "85"}}
    )
    api(
        "PATCH",
        f"/{{admin}}/products/{product['id']}.json",
        422,
        json={"product": {"tax_rate_id": "1"}},
    )
    api("PATCH", f"/{{admin}}/products/{product['id']}.json", 400, json={"x": 1})
    api("PATCH", "/{admin}/products/1.json", 404, json={"product": {"price": "85"}})
    api("GET", "/{admin}/products/identifier/H-1.json", 200)
    api("GET", "/{admin}/products/identifier/none.json", 404)

    # sales invoices
    draft = {"sales_invoice": {"contact_id": contact["id"], "reference": "LB-1",
                               "details_attributes": [{"description": "Work", "price": "300",
                                                       "amount": "1"}]}}  # fmt: skip
    invoice = api("POST", "/{admin}/sales_invoices.json", 201, json=draft).json()
    api(
        "POST",
        "/{admin}/sales_invoices.json",
        404,
        json={"sales_invoice": {"contact_id": "1", "reference": "x"}},
    )
    api("POST", "/{admin}/sales_invoices.json", 422, json={"sales_invoice": {"reference": "x"}})
    sandbox.control.plan(max_sales_invoices=1)
    api("POST", "/{admin}/sales_invoices.json", 402, json=draft)
    sandbox.control.plan()
    api("GET", "/{admin}/sales_invoices.json", 200)
    api("GET", "/{admin}/sales_invoices.json?filter=period:nonsense", 400)
    api("GET", f"/{{admin}}/sales_invoices/{invoice['id']}.json", 200)
    api("GET", "/{admin}/sales_invoices/1.json", 404)
    api(
        "PATCH",
        f"/{{admin}}/sales_invoices/{invoice['id']}.json",
        200,
        json={"sales_invoice": {"reference": "LB-1b"}},
    )
    api(
        "PATCH",
        f"/{{admin}}/sales_invoices/{invoice['id']}.json",
        422,
        json={"sales_invoice": {"invoice_date": "not a date"}},
    )
    api("PATCH", f"/{{admin}}/sales_invoices/{invoice['id']}.json", 400, json={})
    api("PATCH", "/{admin}/sales_invoices/1.json", 404, json={"sales_invoice": {"reference": "y"}})
    api("GET", "/{admin}/sales_invoices/find_by_reference/LB-1b.json", 200)
    api("GET", "/{admin}/sales_invoices/find_by_reference/none.json", 404)
    api("POST", "/{admin}/sales_invoices/synchronization.json", 200, json={"ids": [invoice["id"]]})
    api("POST", "/{admin}/sales_invoices/synchronization.json", 400, json={"ids": []})
    api("GET", "/{admin}/sales_invoices/synchronization.json", 200)
    api("GET", "/{admin}/sales_invoices/synchronization.json?filter=state:lost", 400)
    api(
        "POST",
        f"/{{admin}}/sales_invoices/{invoice['id']}/payments.json",
        422,
        json={"payment": {"price": "10", "payment_date": "2026-01-01"}},
    )  # draft: not open
    api("PATCH", f"/{{admin}}/sales_invoices/{invoice['id']}/send_invoice.json", 200, json={})
    empty = api(
        "POST",
        "/{admin}/sales_invoices.json",
        201,
        json={"sales_invoice": {"contact_id": contact["id"]}},
    ).json()
    api("PATCH", f"/{{admin}}/sales_invoices/{empty['id']}/send_invoice.json", 422, json={})
    api(
        "PATCH",
        f"/{{admin}}/sales_invoices/{empty['id']}/send_invoice.json",
        400,
        json={"sales_invoice_sending": "Email"},
    )
    api("PATCH", "/{admin}/sales_invoices/1/send_invoice.json", 404, json={})
    payment = api(
        "POST",
        f"/{{admin}}/sales_invoices/{invoice['id']}/payments.json",
        201,
        json={"payment": {"price": "363.00", "payment_date": "2026-03-01"}},
    ).json()
    api(
        "POST",
        f"/{{admin}}/sales_invoices/{invoice['id']}/payments.json",
        400,
        json={"payment": {"price": "1"}},
    )
    api(
        "POST",
        "/{admin}/sales_invoices/1/payments.json",
        404,
        json={"payment": {"price": "1", "payment_date": "2026-03-01"}},
    )
    api("GET", f"/{{admin}}/payments/{payment['id']}.json", 200)
    api("GET", "/{admin}/payments/1.json", 404)
    api("DELETE", f"/{{admin}}/sales_invoices/{invoice['id']}.json", 400)  # has a payment
    api("DELETE", f"/{{admin}}/sales_invoices/{invoice['id']}/payments/{payment['id']}.json", 204)
    api("DELETE", f"/{{admin}}/sales_invoices/{invoice['id']}/payments/{payment['id']}.json", 404)
    api("DELETE", f"/{{admin}}/sales_invoices/{empty['id']}.json", 204)
    api("DELETE", f"/{{admin}}/sales_invoices/{empty['id']}.json", 404)
    api("DELETE", f"/{{admin}}/contacts/{contact['id']}.json", 204)
    api("DELETE", f"/{{admin}}/contacts/{contact['id']}.json", 404)

    # shared responses: bad token, missing scope, rate limit
    api("GET", "/{admin}/contacts.json", 401, token="wrong")
    sandbox.control.add_token("no-scope", ["documents"])
    api("GET", "/{admin}/contacts.json", 401, token="no-scope")
    sandbox.control.rate_limit(enabled=True, limit=1)
    api("GET", "/{admin}/contacts.json", 200)
    api("GET", "/{admin}/contacts.json", 429)

    described = {(m.upper(), t) for t, ops in openapi.spec()["paths"].items() for m in ops}
    succeeded = {(m, t) for m, t, s in api.seen if s < 300}
    failed = {(m, t) for m, t, s in api.seen if s >= 400}
    assert succeeded == described
    assert failed == described


def _concrete(template: str, admin: str, suffix: str) -> str:
    """A path for a described template: ids `1`, word parameters `x`."""
    path = template.replace("{administration_id}", admin).replace("{format}", suffix)
    for name in openapi.WORD_PARAMS:
        path = path.replace(f"{{{name}}}", "x")
    return re.sub(r"{\w+}", "1", path)


def _operations() -> list[tuple[str, str, dict]]:
    return [(method.upper(), template, op) for template, ops in openapi.spec()["paths"].items()
            for method, op in ops.items() if method != "parameters"]  # fmt: skip


def test_every_operation_answers_401_and_429_as_described_with_and_without_json(api, sandbox):
    operations = _operations()
    assert len(operations) == 30
    for index, (method, template, _) in enumerate(operations):
        path = _concrete(template, sandbox.administration_id, ".json" if index % 2 else "")
        response = api(method, path, 401, json={}, token="not-the-token")
        assert response.json() == {"error": "The access token is invalid",
                                   "symbolic": {"token": "invalid"}}  # fmt: skip
    sandbox.control.rate_limit(enabled=True, limit=1, window=300)
    api("GET", "/administrations.json", 200)
    for index, (method, template, _) in enumerate(operations):
        path = _concrete(template, sandbox.administration_id, "" if index % 2 else ".json")
        limited = api(method, path, 429, json={})
        assert limited.text == "Retry later"
        assert limited.headers["Retry-After"] == limited.headers["RateLimit-Reset"]
        assert int(limited.headers["Retry-After"]) > 1_000_000_000  # absolute Unix time
    assert {(m, t) for m, t, s in api.seen if s == 401} == {(m, t) for m, t, _ in operations}
    assert {(m, t) for m, t, s in api.seen if s == 429} == {(m, t) for m, t, _ in operations}


def test_every_paginated_operation_refuses_per_page_above_100(api, sandbox):
    paginated = [(method, template) for method, template, op in _operations()
                 if any(p.get("$ref", "").endswith("/per_page") or p.get("name") == "per_page"
                        for p in op.get("parameters", ()))]  # fmt: skip
    assert len(paginated) == 5  # contacts, contacts/filter, products, tax_rates, sales_invoices
    for method, template in paginated:
        path = _concrete(template, sandbox.administration_id, ".json")
        too_big = api(method, f"{path}?per_page=101", 400)
        assert too_big.json() == {"error": "Per Page is too big", "symbolic": {"per_page": "max"}}
        full = api(method, f"{path}?per_page=100", 200)
        assert isinstance(full.json(), list)


def test_the_validator_rejects_a_missing_or_undeclared_field(sandbox):
    """The description marks no field as required, so the check of field sets is ours;
    prove it bites: drop a field, misspell one."""
    with httpx.Client(headers=sandbox.headers(), timeout=10) as http:
        response = http.get(sandbox.url("contacts.json"))
    openapi.validate(response)
    schema = openapi.operation_for("GET", response.request.url.path)[1]["responses"]["200"]
    schema = schema["content"]["application/json"]["schema"]
    contacts = response.json()
    assert list(openapi.field_gaps(schema, contacts)) == []
    del contacts[0]["customer_id"]
    contacts[1]["company"] = contacts[1].pop("company_name")
    assert list(openapi.field_gaps(schema, contacts)) == [
        "$[0].customer_id is missing",
        "$[1].company_name is missing",
        "$[1].company is not in the description",
    ]
