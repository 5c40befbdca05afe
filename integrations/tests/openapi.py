"""Validate sandbox responses against the vendored subset of Moneybird's OpenAPI description.

The operation is found from the request (method + path against the path templates),
the response by status; the body is checked with jsonschema (draft 2020-12, formats
on) and declared headers by their schemas. A status the operation does not list is
checked against the description's shared response of that status (e.g. the 401 for a
bad token, the 429 of the rate limit), and must exist there.
"""

import json
import re
from functools import cache
from pathlib import Path

import httpx
import yaml
from jsonschema import Draft202012Validator

FIXTURE = Path(__file__).parent / "fixtures" / "moneybird-openapi-subset.yaml"
SHARED = {
    400: "400_bad_request",
    401: "401_unauthorized",
    402: "402_payment_required",
    404: "404_not_found",
    422: "422_unprocessable_entity",
    429: "429_too_many_requests",
}
WORD_PARAMS = {"customer_id", "reference", "identifier"}
# Declared fields Moneybird does not send on the objects the sandbox serves: the shared
# `detail_response` is also the estimate line, whose `is_optional` / `is_selected` are
# absent from Moneybird's own sales invoice examples (shared/reference/moneybird/
# sales_invoice_open.json and _paid.json, which the sandbox matches key for key).
NOT_SENT_BY_SCHEMA = {"detail_response": {"is_optional", "is_selected"}}


@cache
def spec() -> dict:
    return yaml.safe_load(FIXTURE.read_text())


@cache
def _templates() -> list[tuple[re.Pattern, str]]:
    compiled = []
    for template in spec()["paths"]:
        pattern = (
            re.escape(template.removesuffix("{format}")).replace(r"\{", "{").replace(r"\}", "}")
        )

        def param(match: re.Match) -> str:
            return "[^/]+" if match.group(1) in WORD_PARAMS else r"\d+"

        pattern = re.sub(r"{(\w+)}", param, pattern)
        compiled.append((re.compile(f"^{pattern}(\\.json)?$"), template))
    # literal segments before parameters: `contacts/synchronization` beats `contacts/{id}`
    compiled.sort(key=lambda item: item[1].count("{"))
    return compiled


def operation_for(method: str, path: str) -> tuple[str, dict]:
    path = path.removeprefix("/api/v2")
    for pattern, template in _templates():
        if pattern.match(path) and method.lower() in spec()["paths"][template]:
            return template, spec()["paths"][template][method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of the described API")


def _not_sent(schema: dict) -> set[str]:
    schemas = spec()["components"]["schemas"]
    return next((f for n, f in NOT_SENT_BY_SCHEMA.items() if schemas[n] is schema), set())


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        target = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _validator(schema: dict) -> Draft202012Validator:
    root = {**schema, "components": spec()["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _properties(schema: dict) -> dict | None:
    """The declared properties of an object schema (through `$ref` and `allOf`), or None
    when it declares none (free-form objects, scalars)."""
    schema = _resolve(schema)
    found: dict = {}
    for part in schema.get("allOf", ()):
        found.update(_properties(part) or {})
    found.update(schema.get("properties", {}))
    return found or None


def field_gaps(schema: dict, body, where: str = "$"):
    """Yield every declared field missing from `body` and every field it has that the
    description does not declare, recursively. The published schemas list no `required`
    fields, so a schema check alone would accept `{}`; Moneybird always sends every
    declared field (null when empty), and so must the sandbox."""
    schema = _resolve(schema)
    if isinstance(body, list):
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(body):
                yield from field_gaps(items, item, f"{where}[{index}]")
        return
    if not isinstance(body, dict):
        return
    declared = _properties(schema)
    if declared is None:
        return
    for name in sorted(set(declared) - set(body) - _not_sent(schema)):
        yield f"{where}.{name} is missing"
    for name in sorted(set(body) - set(declared)):
        yield f"{where}.{name} is not in the description"
    for name in sorted(set(declared) & set(body)):
        yield from field_gaps(declared[name], body[name], f"{where}.{name}")


def validate(response: httpx.Response) -> tuple[str, int]:
    """Assert `response` is what the description allows; returns (template, status)."""
    request = response.request
    template, operation = operation_for(request.method, request.url.path)
    status = response.status_code
    described = operation["responses"].get(str(status))
    if described is None:
        assert status in SHARED, f"{request.method} {template} answered an undescribed {status}"
        described = {"$ref": f"#/components/responses/{SHARED[status]}"}
    described = _resolve(described)
    content = described.get("content")
    if not content:
        assert response.content == b"", f"{status} must have no body"
        return template, status
    schema = next(iter(content.values()))["schema"]
    body = response.text if status == 429 else json.loads(response.content)
    errors = sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    if status < 300:
        gaps = list(field_gaps(schema, body))
        assert not gaps, f"{request.method} {template} {status}: " + "; ".join(gaps[:10])
    for name, header in described.get("headers", {}).items():
        assert name in response.headers, f"header {name} missing"
        value = response.headers[name]
        header_schema = _resolve(header)["schema"]
        if header_schema.get("type") == "integer":
            assert re.fullmatch(r"-?\d+", value), f"{name}: {value!r} is not an integer"
    return template, status
