"""Moneybird API v2 client, behind `AccountingProvider`.

One hardened httpx client per connection: connect and read timeouts, TLS verified,
redirects never followed (a 3xx is an error), only URLs the outbound policy allows
(see http.py), every request through the shared `RequestBudget`. Errors are
classified into base.py's three families; the token lives in an `httpx.Auth` that
never prints it.

Waiting: idempotent reads are retried in-call on network errors, timeouts and 5xx
with a short backoff (`retries`, at most a second or two in all); a 429 is waited out
in-call only when its `Retry-After` is within `max_wait` (default 0). Otherwise the
error carries `retry_at` and the caller (a Celery task) retries with a countdown.
"""

import json
import logging
import time
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import httpx
from django.conf import settings

from .. import base
from ..base import (
    AccessDenied,
    AccountingProvider,
    AuthenticationFailed,
    BadRequest,
    ContactData,
    InvoiceData,
    MissingScope,
    NetworkError,
    NotFound,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    RedirectRefused,
    RemoteContact,
    RemoteInvoice,
    RemotePayment,
    RemoteProduct,
    RemoteTaxRate,
    RemoteVersion,
    RetryableError,
    ServerError,
    UnexpectedResponse,
    UnsafeURL,
    ValidationFailed,
)
from ..budget import RequestBudget, connection_key
from ..http import check_outbound_url, parse_retry_after
from . import mapping

logger = logging.getLogger(__name__)

PRODUCTION_URL = "https://moneybird.com/api/v2"
PROVIDER_HOSTS = {"moneybird.com"}
PER_PAGE = 100
SYNC_BATCH = 100


class _BearerToken(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "_BearerToken(***)"

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class MoneybirdClient(AccountingProvider):
    def __init__(
        self,
        *,
        administration_id: str,
        token: str,
        base_url: str = PRODUCTION_URL,
        budget: RequestBudget | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retries: int = 2,
        retry_base: float = 0.25,
        max_wait: float = 0.0,
        default_retry_after: float = 60.0,
    ) -> None:
        if not str(administration_id).isdigit():
            raise UnsafeURL("The administration id must be numeric")
        allow_local = getattr(settings, "INTEGRATIONS_ALLOW_LOCAL_URLS", False)
        self.base_url = check_outbound_url(
            base_url, provider_hosts=PROVIDER_HOSTS, allow_local=allow_local
        )
        self.administration_id = str(administration_id)
        self._root = f"{self.base_url}/{self.administration_id}/"
        self.budget = budget or RequestBudget(connection_key(self.base_url, self.administration_id))
        self.retries = retries
        self.retry_base = retry_base
        self.max_wait = max_wait
        self.default_retry_after = default_retry_after
        self._http = httpx.Client(
            auth=_BearerToken(token),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
            verify=True,
            headers={"Accept": "application/json", "User-Agent": "Ledgerbridge/1.0"},
        )

    def __repr__(self) -> str:
        return f"MoneybirdClient({self.base_url}, administration {self.administration_id})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport ---------------------------------------------------------------
    def request(
        self, method: str, path: str, *, json_body=None, params=None, idempotent: bool | None = None
    ):
        """One API call with budget, classification and the short in-call retries.
        `path` is relative to the administration (`contacts.json`) or absolute
        under the base URL (a `Link` header's next page)."""
        url = path if path.startswith(self.base_url + "/") else self._root + path
        if idempotent is None:
            idempotent = method == "GET"
        attempt = 0
        while True:
            try:
                return self._send_once(method, url, json_body, params)
            except RetryableError as error:
                wait = self._in_call_wait(error, attempt, idempotent)
                if wait is None:
                    raise
                logger.info(
                    "moneybird %s %s: %s; retrying in %.2fs",
                    method,
                    error.path,
                    type(error).__name__,
                    wait,
                )
                time.sleep(wait)
                attempt += 1

    def _in_call_wait(self, error: RetryableError, attempt: int, idempotent: bool) -> float | None:
        if isinstance(error, RateLimited):
            wait = (error.retry_at or time.time()) - time.time()
            return max(0.0, wait) + 0.01 if wait <= self.max_wait else None
        if not idempotent or attempt >= self.retries:
            return None
        return base.backoff_seconds(attempt, base=self.retry_base, cap=2.0)

    def _send_once(self, method: str, url: str, json_body, params):
        path = httpx.URL(url).path
        where = {"method": method, "path": path}
        self.budget.acquire(max_wait=self.max_wait)
        try:
            response = self._http.request(method, url, json=json_body, params=params)
        except httpx.TimeoutException:
            raise ProviderTimeout("Moneybird did not answer in time", **where) from None
        except httpx.RequestError as exc:  # transport, decoding, protocol errors
            raise NetworkError(
                f"Network error talking to Moneybird: {type(exc).__name__}", **where
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return response, None
            try:
                return response, json.loads(response.content, parse_float=Decimal)
            except ValueError:
                raise UnexpectedResponse(
                    "Moneybird sent a body that is not JSON", status=status, **where
                ) from None
        raise self._classify(response, where)

    def _classify(self, response: httpx.Response, where: dict) -> ProviderError:
        status = response.status_code
        now = time.time()
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        message = error if isinstance(error, str) else f"Moneybird answered {status}"
        if 300 <= status < 400:
            return RedirectRefused(
                "Moneybird answered with a redirect; not followed", status=status, **where
            )
        if status == 401:
            if isinstance(error, str) and error.startswith("No access to"):
                return MissingScope(message, status=status, **where)
            return AuthenticationFailed(message, status=status, **where)
        if status == 402:
            return PaymentRequired(message, status=status, **where)
        if status == 403:  # undocumented for these endpoints: the token or a gateway refuses
            return AccessDenied(message, status=status, **where)
        if status == 429:
            retry_at = parse_retry_after(response.headers.get("Retry-After"), now=now)
            if retry_at is None:
                retry_at = parse_retry_after(response.headers.get("RateLimit-Reset"), now=now)
            if retry_at is None:
                retry_at = now + self.default_retry_after
            self.budget.pause_until(retry_at)
            return RateLimited(
                "Moneybird rate limit reached", status=status, retry_at=retry_at, **where
            )
        if status >= 500:
            return ServerError(f"Moneybird server error {status}", status=status, **where)
        if status == 422:
            fields = _field_errors(error)
            if fields:
                summary = "; ".join(f"{f} {', '.join(m)}" for f, m in fields.items())
                return ValidationFailed(summary, field_errors=fields, status=status, **where)
            return ValidationFailed(message, status=status, **where)
        if status == 404:
            return NotFound(message, status=status, **where)
        return BadRequest(message, status=status, **where)

    def _get(self, path: str, params=None):
        return self.request("GET", path, params=params)[1]

    def _paginate(self, path: str, params=None) -> Iterator[dict]:
        response, page = self.request("GET", path, params={**(params or {}), "per_page": PER_PAGE})
        while True:
            if not isinstance(page, list):
                raise UnexpectedResponse("Moneybird sent a page that is not a list", path=path)
            yield from page
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            if not following.startswith(self._root):
                raise UnsafeURL("Moneybird's next page points elsewhere; not followed")
            response, page = self.request("GET", following)

    def _find(self, path: str) -> dict | None:
        try:
            return self._get(path)
        except NotFound:
            return None

    # --- AccountingProvider --------------------------------------------------------
    def check(self) -> str:
        for admin in self.request("GET", f"{self.base_url}/administrations.json")[1]:
            if str(admin["id"]) == self.administration_id:
                return admin["name"]
        raise NotFound("The administration is not accessible with this token")

    def list_tax_rates(self) -> list[RemoteTaxRate]:
        return [mapping.tax_rate(raw) for raw in self._paginate("tax_rates.json")]

    def list_products(self) -> list[RemoteProduct]:
        return [mapping.product(raw) for raw in self._paginate("products.json")]

    def iter_contacts(self) -> Iterator[RemoteContact]:
        return (mapping.contact(raw) for raw in self._paginate("contacts.json"))

    def list_contact_versions(self) -> list[RemoteVersion]:
        return mapping.versions(self._get("contacts/synchronization.json"))

    def fetch_contacts(self, ids: Iterable[str]) -> list[RemoteContact]:
        return [mapping.contact(raw) for raw in self._sync_fetch("contacts", ids)]

    def find_contact(self, key: str) -> RemoteContact | None:
        raw = self._find(f"contacts/customer_id/{_segment(key)}.json")
        return mapping.contact(raw) if raw else None

    def upsert_contact(self, data: ContactData, *, remote_id: str | None = None) -> RemoteContact:
        attrs = mapping.contact_attributes(data)
        if remote_id is None:
            existing = self.find_contact(data.key)
            remote_id = existing.id if existing else None
        if remote_id is not None:
            try:
                raw = self.request(
                    "PATCH",
                    f"contacts/{_remote_id(remote_id)}.json",
                    json_body={"contact": attrs},
                    idempotent=True,
                )[1]
                return mapping.contact(raw)
            except NotFound:
                pass  # deleted in Moneybird meanwhile: create it again
        return mapping.contact(
            self.request("POST", "contacts.json", json_body={"contact": attrs})[1]
        )

    def list_invoice_versions(self) -> list[RemoteVersion]:
        return mapping.versions(self._get("sales_invoices/synchronization.json"))

    def fetch_invoices(self, ids: Iterable[str]) -> list[RemoteInvoice]:
        return [mapping.invoice(raw) for raw in self._sync_fetch("sales_invoices", ids)]

    def find_invoice(self, reference: str) -> RemoteInvoice | None:
        raw = self._find(f"sales_invoices/find_by_reference/{_segment(reference)}.json")
        return mapping.invoice(raw) if raw else None

    def create_invoice(self, data: InvoiceData) -> RemoteInvoice:
        body = mapping.invoice_body(data)
        return mapping.invoice(self.request("POST", "sales_invoices.json", json_body=body)[1])

    def send_invoice(self, remote_id: str) -> RemoteInvoice:
        body = {"sales_invoice_sending": {"delivery_method": "Email"}}
        path = f"sales_invoices/{_remote_id(remote_id)}/send_invoice.json"
        return mapping.invoice(self.request("PATCH", path, json_body=body)[1])

    def list_payments(self, invoice_remote_id: str) -> list[RemotePayment]:
        invoice = self._get(f"sales_invoices/{_remote_id(invoice_remote_id)}.json")
        return list(mapping.invoice(invoice).payments)

    def register_payment(
        self, invoice_remote_id: str, *, amount: Decimal, payment_date: date
    ) -> RemotePayment:
        body = {"payment": {"price": str(amount), "payment_date": payment_date.isoformat()}}
        raw = self.request(
            "POST", f"sales_invoices/{_remote_id(invoice_remote_id)}/payments.json", json_body=body
        )[1]
        return mapping.payment(raw)

    def _sync_fetch(self, resource: str, ids: Iterable[str]) -> list[dict]:
        ids = list(ids)
        found = []
        for start in range(0, len(ids), SYNC_BATCH):
            batch = ids[start : start + SYNC_BATCH]
            found.extend(
                self.request(
                    "POST",
                    f"{resource}/synchronization.json",
                    json_body={"ids": batch},
                    idempotent=True,
                )[1]
            )
        return found


def _segment(value: str) -> str:
    """Our key or reference as one path segment: `/`, `?`, `#`, `%`, spaces escaped, so
    `INV/2026/1` stays one segment and nothing can reach another path."""
    return quote(str(value), safe="")


def _remote_id(value) -> str:
    """Moneybird's ids are numeric strings; anything else is refused before a request."""
    text = str(value)
    if not text.isdigit():
        raise BadRequest(f"Not a Moneybird id: {text[:40]!r}")
    return text


def _field_errors(error) -> dict[str, list[str]]:
    if not isinstance(error, dict):
        return {}
    return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in error.items()}
