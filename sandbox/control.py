"""The control API under `/_sandbox/`: for tests and demos, never part of Moneybird.

    GET    /_sandbox/state                      administration id, clock, rate limit, counts
    POST   /_sandbox/reset                      {"seed": "demo"|"empty"}: a fresh store, no
                                                faults, empty log, real clock, limit as started
    POST   /_sandbox/seed                       {"contacts": N, "sales_invoices": M}: bulk records
    GET    /_sandbox/clock                      {"now": epoch, "frozen": bool}
    POST   /_sandbox/clock                      {"advance": s} | {"set": epoch} | {"freeze": bool}
    POST   /_sandbox/rate_limit                 {"enabled": bool, "limit": n, "window": s}
    POST   /_sandbox/plan                       {"max_contacts": n, "max_sales_invoices": n} (402)
    POST   /_sandbox/tokens                     {"token": "...", "scopes": ["sales_invoices", ...]}
    GET    /_sandbox/faults, POST (one fault, see faults.py), DELETE (clear all)
    GET    /_sandbox/requests                   the request log; DELETE clears it
    PATCH  /_sandbox/person/contacts/{id}       {attrs}: a person edits a contact in Moneybird
    DELETE /_sandbox/person/contacts/{id}       a person deletes it
    PATCH  /_sandbox/person/sales_invoices/{id} {attrs}; DELETE likewise
    POST   /_sandbox/person/sales_invoices/{id}/payments  {"price": "..", "payment_date": ".."}
    POST   /_sandbox/person/sales_invoices/{id}/send
    POST   /_sandbox/person/sales_invoices/{id}/uncollectible  (a person writes it off)

Person edits change `version` like any change and do not appear in the request log.
"""

import re

from .api import Response
from .errors import ApiError
from .faults import FaultSpecError
from .seed import bulk_seed


def handle(server, method: str, path: str, body) -> Response:
    """`server` is the running SandboxServer; `path` is below `/_sandbox`."""
    body = body if isinstance(body, dict) else {}
    store = server.store
    try:
        with store.lock:
            return _route(server, store, method, path, body)
    except ApiError as error:
        return Response(error.status, error.body)
    except (FaultSpecError, ValueError, TypeError, KeyError) as error:
        return Response(400, {"error": str(error)})


def _route(server, store, method, path, body) -> Response:
    admin = store.administrations.get(server.administration_id)
    if (method, path) == ("GET", "/state"):
        return Response(200, server.state())
    if (method, path) == ("POST", "/reset"):
        server.reset(seed=body.get("seed", "demo"))
        return Response(200, server.state())
    if (method, path) == ("POST", "/seed"):
        counts = bulk_seed(
            store,
            admin,
            contacts=int(body.get("contacts", 0)),
            sales_invoices=int(body.get("sales_invoices", 0)),
        )
        return Response(200, counts)
    if path == "/clock":
        if method == "POST":
            if "advance" in body:
                store.clock.advance(float(body["advance"]))
            if "set" in body:
                store.clock.set(float(body["set"]))
            if "freeze" in body:
                store.clock.freeze(bool(body["freeze"]))
        return Response(200, store.clock.state())
    if (method, path) == ("POST", "/rate_limit"):
        server.rate_limiter.configure(
            enabled=body.get("enabled"), limit=body.get("limit"), window=body.get("window")
        )
        return Response(200, server.rate_limiter.state())
    if (method, path) == ("POST", "/plan"):
        admin.max_contacts = body.get("max_contacts")
        admin.max_sales_invoices = body.get("max_sales_invoices")
        return Response(
            200,
            {"max_contacts": admin.max_contacts, "max_sales_invoices": admin.max_sales_invoices},
        )
    if (method, path) == ("POST", "/tokens"):
        store.add_token(str(body["token"]), body.get("scopes", ()))
        return Response(201, {"scopes": sorted(store.tokens[str(body["token"])])})
    if path == "/faults":
        if method == "POST":
            return Response(201, server.faults.add(body).as_dict())
        if method == "DELETE":
            server.faults.clear()
            return Response(204)
        return Response(200, server.faults.list())
    if path == "/requests":
        if method == "DELETE":
            server.clear_log()
            return Response(204)
        return Response(200, server.request_log())
    match = re.fullmatch(
        r"/person/(contacts|sales_invoices)/(\d+)(/payments|/send|/uncollectible)?", path
    )
    if match:
        return _person(store, admin, method, *match.groups(), body)
    return Response(404, {"error": f"no control endpoint {method} /_sandbox{path}"})


def _person(store, admin, method, resource, record_id, action, body) -> Response:
    """Changes made by a person inside Moneybird, outside the API."""
    if resource == "contacts":
        if method == "PATCH" and not action:
            return Response(
                200, store.contact_json(admin, store.contact_update(admin, record_id, body))
            )
        if method == "DELETE" and not action:
            store.contact_delete(admin, record_id)
            return Response(204)
    else:
        if method == "PATCH" and not action:
            return Response(
                200, store.invoice_json(admin, store.invoice_update(admin, record_id, body))
            )
        if method == "DELETE" and not action:
            store.invoice_delete(admin, record_id)
            return Response(204)
        if method == "POST" and action == "/payments":
            return Response(201, store.payment_create(admin, record_id, body))
        if method == "POST" and action == "/send":
            return Response(
                200, store.invoice_json(admin, store.invoice_send(admin, record_id, body))
            )
        if method == "POST" and action == "/uncollectible":
            record = store.invoice_mark_uncollectible(admin, record_id)
            return Response(200, store.invoice_json(admin, record))
    return Response(405, {"error": "method not allowed"})
