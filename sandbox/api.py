"""The emulated Moneybird endpoints: routing, pagination, filters, handlers.

Paths are matched without the `/api/v2` prefix and without the optional `.json`
suffix. Handlers run under the store lock and return a `Response`.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from urllib.parse import unquote, urlencode

from .errors import ApiError, symbolic
from .store import Administration, Store

SYNC_BATCH = 100
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50


@dataclass
class Request:
    method: str
    path: str  # without /api/v2 and .json
    query: dict[str, str]
    body: object
    base_url: str  # scheme://host/api/v2, for Link headers
    raw_path: str
    scopes: frozenset[str] = frozenset()


@dataclass
class Response:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Store, Request, dict], Response]
ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def route(method: str, pattern: str):
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn

    return register


def resolve(method: str, path: str) -> tuple[Handler, dict] | None:
    """Match the path as it arrived (percent-encoded), then decode each parameter, so
    `customer_id/LB%2F7` is the one customer id `LB/7`, not two path segments."""
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return handler, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


# --- helpers ---------------------------------------------------------------------
def wrapped(request: Request, key: str, *, required: bool = True) -> dict:
    """Moneybird wraps attributes: `{"contact": {...}}`."""
    body = request.body if isinstance(request.body, dict) else {}
    value = body.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise symbolic(400, f"{key} is missing", **{key: "required"})
    return value


def parse_filter(request: Request) -> dict[str, str]:
    """`filter=state:open,period:this_year` -> {"state": "open", "period": "this_year"}."""
    raw = request.query.get("filter", "")
    result = {}
    for part in filter(None, raw.split(",")):
        key, sep, value = part.partition(":")
        if not sep:
            raise symbolic(400, "filter is invalid", filter="invalid")
        result[key.strip()] = value.strip()
    return result


def parse_after(value: str, name: str) -> str:
    """`created_after` / `updated_after`: an ISO 8601 time in UTC, compared as Moneybird's
    own timestamps (`...Z`), exclusive."""
    text = value.replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise symbolic(400, f"{name} is invalid", **{name: "invalid"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def period_bounds(value: str, today: date) -> tuple[date, date]:
    """Moneybird's `period` presets and `YYYYMM[DD]..YYYYMM[DD]` ranges."""

    def month_start(y: int, m: int) -> date:
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        return date(y, m, 1)

    def month_end(y: int, m: int) -> date:
        nxt = month_start(y, m + 1)
        return date.fromordinal(nxt.toordinal() - 1)

    y, m = today.year, today.month
    q = (m - 1) // 3 * 3 + 1
    presets = {
        "this_month": (month_start(y, m), month_end(y, m)),
        "prev_month": (month_start(y, m - 1), month_end(y, m - 1)),
        "next_month": (month_start(y, m + 1), month_end(y, m + 1)),
        "this_quarter": (month_start(y, q), month_end(y, q + 2)),
        "prev_quarter": (month_start(y, q - 3), month_end(y, q - 1)),
        "next_quarter": (month_start(y, q + 3), month_end(y, q + 5)),
        "this_year": (date(y, 1, 1), date(y, 12, 31)),
        "prev_year": (date(y - 1, 1, 1), date(y - 1, 12, 31)),
        "next_year": (date(y + 1, 1, 1), date(y + 1, 12, 31)),
    }
    if value in presets:
        return presets[value]
    match = re.fullmatch(r"(\d{6}|\d{8})(?:\.\.(\d{6}|\d{8}))?", value)
    if not match:
        raise symbolic(400, "Period is invalid", period="invalid")
    start_text, end_text = match.group(1), match.group(2) or match.group(1)
    try:
        start = date(int(start_text[:4]), int(start_text[4:6]), int(start_text[6:] or 1))
        if len(end_text) == 8:
            end = date(int(end_text[:4]), int(end_text[4:6]), int(end_text[6:]))
        else:
            end = month_end(int(end_text[:4]), int(end_text[4:6]))
    except ValueError:
        raise symbolic(400, "Period is invalid", period="invalid") from None
    return start, end


def paginate(request: Request, items: Iterable, count: int, serialize) -> Response:
    """`page` / `per_page` (max 100, more is a 400) and an RFC 8288 `Link` header."""
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        raise symbolic(400, "page is invalid", page="invalid") from None
    try:
        per_page = int(request.query.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        raise symbolic(400, "per_page does not have a valid value", per_page="invalid") from None
    if page < 1:
        raise symbolic(400, "Page is too small", page="min")
    if per_page > MAX_PER_PAGE:
        raise symbolic(400, "Per Page is too big", per_page="max")
    if per_page < 1:
        raise symbolic(400, "per_page does not have a valid value", per_page="invalid")
    start = (page - 1) * per_page
    body = [serialize(item) for item in islice(items, start, start + per_page)]
    links = []
    base = f"{request.base_url}{request.raw_path}"

    def link(target: int, rel: str) -> str:
        params = {**request.query, "page": str(target), "per_page": str(per_page)}
        return f'<{base}?{urlencode(params)}>; rel="{rel}"'

    if start + per_page < count:
        links.append(link(page + 1, "next"))
    if page > 1:
        links.append(link(page - 1, "prev"))
    headers = {"X-Total-Count": str(count)}
    if links:
        headers["Link"] = ", ".join(links)
    return Response(200, body, headers)


def sync_ids(request: Request) -> list[str]:
    body = request.body if isinstance(request.body, dict) else {}
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise symbolic(400, "Ids is required", ids="required")
    if not all(isinstance(i, (int, str)) and str(i).isdigit() for i in ids):
        raise symbolic(400, "ids is invalid", ids="invalid")
    return [str(i) for i in ids[:SYNC_BATCH]]


def admin_of(store: Store, params: dict) -> Administration:
    return store.administration(params["admin"])


# --- administrations -------------------------------------------------------------
@route("GET", r"/administrations")
def administrations_list(store: Store, request: Request, params: dict) -> Response:
    return Response(
        200,
        [
            {
                "id": admin.id,
                "name": admin.name,
                "language": "nl",
                "currency": "EUR",
                "country": "NL",
                "time_zone": "Europe/Amsterdam",
                "access": "user",
                "suspended": False,
                "period_locked_until": None,
                "period_start_date": f"{store.clock.today().year}-01-01",
            }
            for admin in store.administrations.values()
        ],
    )


# --- contacts --------------------------------------------------------------------
def _contact_filter(store: Store, admin: Administration, filters: dict):
    known = {"created_after", "updated_after", "first_name", "last_name"}
    if set(filters) - known:
        raise symbolic(400, "filter is invalid", filter="invalid")
    created = (
        parse_after(filters["created_after"], "created_after")
        if "created_after" in filters
        else None
    )
    updated = (
        parse_after(filters["updated_after"], "updated_after")
        if "updated_after" in filters
        else None
    )
    first = filters.get("first_name", "").lower()
    last = filters.get("last_name", "").lower()
    if not filters:
        return list(admin.contacts.values())
    return [
        c
        for c in admin.contacts.values()
        if (created is None or c["created_at"] > created)
        and (updated is None or c["updated_at"] > updated)
        and (not first or (c.get("firstname") or "").lower() == first)
        and (not last or (c.get("lastname") or "").lower() == last)
    ]


@route("GET", r"/(?P<admin>\d+)/contacts")
def contacts_list(store, request, params):
    admin = admin_of(store, params)
    query = request.query.get("query", "").lower()
    contacts = admin.contacts.values()
    count = len(admin.contacts)
    if query:
        fields = ("company_name", "firstname", "lastname", "customer_id", "email", "city")
        contacts = [
            c for c in contacts if any(query in str(c.get(f) or "").lower() for f in fields)
        ]
        count = len(contacts)
    return paginate(request, contacts, count, lambda c: store.contact_json(admin, c))


@route("GET", r"/(?P<admin>\d+)/contacts/filter")
def contacts_filter(store, request, params):
    admin = admin_of(store, params)
    contacts = _contact_filter(store, admin, parse_filter(request))
    return paginate(request, contacts, len(contacts), lambda c: store.contact_json(admin, c))


@route("POST", r"/(?P<admin>\d+)/contacts")
def contacts_create(store, request, params):
    admin = admin_of(store, params)
    record = store.contact_create(admin, wrapped(request, "contact"))
    return Response(201, store.contact_json(admin, record))


@route("GET", r"/(?P<admin>\d+)/contacts/synchronization")
def contacts_sync_list(store, request, params):
    admin = admin_of(store, params)
    contacts = _contact_filter(store, admin, parse_filter(request))
    return Response(200, [{"id": c["id"], "version": c["version"]} for c in contacts])


@route("POST", r"/(?P<admin>\d+)/contacts/synchronization")
def contacts_sync_fetch(store, request, params):
    admin = admin_of(store, params)
    found = (admin.contacts.get(i) for i in sync_ids(request))
    return Response(200, [store.contact_json(admin, c) for c in found if c is not None])


@route("GET", r"/(?P<admin>\d+)/contacts/customer_id/(?P<customer_id>[^/]+)")
def contacts_by_customer_id(store, request, params):
    admin = admin_of(store, params)
    contact_id = admin.contacts_by_customer_id.get(params["customer_id"])
    record = store.contact_get(admin, contact_id or "")
    return Response(200, store.contact_json(admin, record))


@route("GET", r"/(?P<admin>\d+)/contacts/(?P<id>\d+)")
def contacts_get(store, request, params):
    admin = admin_of(store, params)
    return Response(200, store.contact_json(admin, store.contact_get(admin, params["id"])))


@route("PATCH", r"/(?P<admin>\d+)/contacts/(?P<id>\d+)")
def contacts_update(store, request, params):
    admin = admin_of(store, params)
    record = store.contact_update(admin, params["id"], wrapped(request, "contact"))
    return Response(200, store.contact_json(admin, record))


@route("DELETE", r"/(?P<admin>\d+)/contacts/(?P<id>\d+)")
def contacts_delete(store, request, params):
    store.contact_delete(admin_of(store, params), params["id"])
    return Response(204)


# --- products, tax rates, ledger accounts ------------------------------------------
@route("GET", r"/(?P<admin>\d+)/products")
def products_list(store, request, params):
    admin = admin_of(store, params)
    query = request.query.get("query", "").lower()
    currency = request.query.get("currency")
    products = list(admin.products.values())
    if query:
        products = [p for p in products if query in (p.get("title") or "").lower()]
    if currency:
        products = [p for p in products if p["currency"] == currency]
    return paginate(request, products, len(products), lambda p: store.product_json(admin, p))


@route("POST", r"/(?P<admin>\d+)/products")
def products_create(store, request, params):
    admin = admin_of(store, params)
    record = store.product_create(admin, wrapped(request, "product"))
    return Response(201, store.product_json(admin, record))


@route("GET", r"/(?P<admin>\d+)/products/identifier/(?P<identifier>[^/]+)")
def products_by_identifier(store, request, params):
    admin = admin_of(store, params)
    product_id = admin.products_by_identifier.get(params["identifier"], "")
    return Response(200, store.product_json(admin, store.product_get(admin, product_id)))


@route("GET", r"/(?P<admin>\d+)/products/(?P<id>\d+)")
def products_get(store, request, params):
    admin = admin_of(store, params)
    return Response(200, store.product_json(admin, store.product_get(admin, params["id"])))


@route("PATCH", r"/(?P<admin>\d+)/products/(?P<id>\d+)")
def products_update(store, request, params):
    admin = admin_of(store, params)
    record = store.product_update(admin, params["id"], wrapped(request, "product"))
    return Response(200, store.product_json(admin, record))


@route("GET", r"/(?P<admin>\d+)/tax_rates")
def tax_rates_list(store, request, params):
    admin = admin_of(store, params)
    rates = list(admin.tax_rates.values())
    return paginate(request, rates, len(rates), dict)


@route("GET", r"/(?P<admin>\d+)/ledger_accounts")
def ledger_accounts_list(store, request, params):
    return Response(200, list(admin_of(store, params).ledger_accounts.values()))


@route("GET", r"/(?P<admin>\d+)/ledger_accounts/(?P<id>\d+)")
def ledger_accounts_get(store, request, params):
    record = admin_of(store, params).ledger_accounts.get(params["id"])
    if record is None:
        raise symbolic(404, "record not found", id="not_found")
    return Response(200, record)


# --- sales invoices ----------------------------------------------------------------
STATES = {
    "all",
    "draft",
    "open",
    "scheduled",
    "pending_payment",
    "late",
    "reminded",
    "paid",
    "uncollectible",
}


def _invoice_filter(store: Store, admin: Administration, filters: dict, *, default_period):
    known = {
        "state",
        "period",
        "reference",
        "contact_id",
        "created_after",
        "updated_after",
        "workflow_id",
        "recurring_sales_invoice_id",
    }
    if set(filters) - known:
        raise symbolic(400, "filter is invalid", filter="invalid")
    period = filters.get("period", default_period)
    bounds = period_bounds(period, store.clock.today()) if period else None
    states = set(filters.get("state", "all").split("|"))
    if states - STATES:
        raise symbolic(400, "state is invalid", state="invalid")
    references = set(filters["reference"].split("|")) if "reference" in filters else None
    created = (
        parse_after(filters["created_after"], "created_after")
        if "created_after" in filters
        else None
    )
    updated = (
        parse_after(filters["updated_after"], "updated_after")
        if "updated_after" in filters
        else None
    )
    contact_id = filters.get("contact_id")
    result = []
    candidates = (
        (admin.invoices[i] for r in references for i in admin.invoices_by_reference.get(r, ()))
        if references is not None
        else admin.invoices.values()
    )
    for inv in candidates:
        if bounds and not bounds[0].isoformat() <= inv["invoice_date"] <= bounds[1].isoformat():
            continue
        if "all" not in states and store.invoice_state(inv) not in states:
            continue
        if contact_id and inv["contact_id"] != contact_id:
            continue
        if created and inv["created_at"] <= created:
            continue
        if updated and inv["updated_at"] <= updated:
            continue
        result.append(inv)
    return result


@route("GET", r"/(?P<admin>\d+)/sales_invoices")
def invoices_list(store, request, params):
    admin = admin_of(store, params)
    invoices = _invoice_filter(store, admin, parse_filter(request), default_period="this_year")
    return paginate(request, invoices, len(invoices), lambda i: store.invoice_json(admin, i))


@route("POST", r"/(?P<admin>\d+)/sales_invoices")
def invoices_create(store, request, params):
    admin = admin_of(store, params)
    record = store.invoice_create(admin, wrapped(request, "sales_invoice"))
    return Response(201, store.invoice_json(admin, record))


@route("GET", r"/(?P<admin>\d+)/sales_invoices/synchronization")
def invoices_sync_list(store, request, params):
    admin = admin_of(store, params)
    filters = parse_filter(request)
    invoices = (
        _invoice_filter(store, admin, filters, default_period=None)
        if filters
        else admin.invoices.values()
    )
    return Response(200, [{"id": i["id"], "version": i["version"]} for i in invoices])


@route("POST", r"/(?P<admin>\d+)/sales_invoices/synchronization")
def invoices_sync_fetch(store, request, params):
    admin = admin_of(store, params)
    found = (admin.invoices.get(i) for i in sync_ids(request))
    return Response(200, [store.invoice_json(admin, i) for i in found if i is not None])


@route("GET", r"/(?P<admin>\d+)/sales_invoices/find_by_reference/(?P<reference>.+)")
def invoices_by_reference(store, request, params):
    admin = admin_of(store, params)
    ids = admin.invoices_by_reference.get(params["reference"])
    if not ids:
        raise symbolic(404, "record not found", id="not_found")
    return Response(200, store.invoice_json(admin, admin.invoices[ids[0]]))


@route("GET", r"/(?P<admin>\d+)/sales_invoices/(?P<id>\d+)")
def invoices_get(store, request, params):
    admin = admin_of(store, params)
    return Response(200, store.invoice_json(admin, store.invoice_get(admin, params["id"])))


@route("PATCH", r"/(?P<admin>\d+)/sales_invoices/(?P<id>\d+)")
def invoices_update(store, request, params):
    admin = admin_of(store, params)
    record = store.invoice_update(admin, params["id"], wrapped(request, "sales_invoice"))
    return Response(200, store.invoice_json(admin, record))


@route("DELETE", r"/(?P<admin>\d+)/sales_invoices/(?P<id>\d+)")
def invoices_delete(store, request, params):
    store.invoice_delete(admin_of(store, params), params["id"])
    return Response(204)


@route("PATCH", r"/(?P<admin>\d+)/sales_invoices/(?P<id>\d+)/send_invoice")
def invoices_send(store, request, params):
    admin = admin_of(store, params)
    sending = wrapped(request, "sales_invoice_sending", required=False)
    record = store.invoice_send(admin, params["id"], sending)
    return Response(200, store.invoice_json(admin, record))


@route("POST", r"/(?P<admin>\d+)/sales_invoices/(?P<id>\d+)/payments")
def payments_create(store, request, params):
    admin = admin_of(store, params)
    payment = store.payment_create(admin, params["id"], wrapped(request, "payment"))
    return Response(201, payment)


@route("DELETE", r"/(?P<admin>\d+)/sales_invoices/(?P<id>\d+)/payments/(?P<payment>\d+)")
def payments_delete(store, request, params):
    store.payment_delete(admin_of(store, params), params["id"], params["payment"])
    return Response(204)


@route("GET", r"/(?P<admin>\d+)/payments/(?P<id>\d+)")
def payments_get(store, request, params):
    admin = admin_of(store, params)
    return Response(200, store.payment_get(admin, params["id"]))


def dispatch(store: Store, request: Request) -> Response:
    found = resolve(request.method, request.path)
    if found is None:
        return Response(404, {"error": "record not found", "symbolic": {"route": "not_found"}})
    handler, params = found
    try:
        with store.lock:
            return handler(store, request, params)
    except ApiError as error:
        return Response(error.status, error.body, error.headers)
