"""The soak's HTTP clients and what they were told (see bench/soak_traffic.py for the mix).

Every response is recorded (`Record`); every write is entered in the `Ledger` with a
unique tag in one of its fields, so the database can be counted against what the clients
were acknowledged afterwards (`bench/soak_checks.py`).

Client behaviour, as a careful front end would do it:
- 401 on an authenticated call: refresh (or log in again) and repeat the call (the
  access tokens live in Redis: after an outage they may be gone);
- 503 or 429: wait `Retry-After` (at most 5 s) and repeat, up to 8 attempts, since a
  503 promises nothing was written; a 503 without `Retry-After` is recorded as a finding;
- a transport error (no answer) on a write: not repeated, the outcome is unknown;
- anything else: the final answer.
"""

from __future__ import annotations

import http.client
import http.cookies
import json
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal

API = "/api/v1"
MAX_ATTEMPTS = 8
MAX_WAIT = 5.0
REQUEST_TIMEOUT = 40
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Transport(Exception):
    """No HTTP answer (refused, reset, timed out)."""


@dataclass
class Record:
    at: float
    thread: str
    method: str
    path: str
    status: int  # 0: transport error
    retry_after: str | None
    body: str = ""  # kept for 5xx and transport errors only


@dataclass
class Write:
    kind: str
    tag: str
    thread: str
    statuses: list = field(default_factory=list)
    outcome: str = "pending"  # ack, rejected, unknown
    target: str | None = None  # the row acted on (finalize, payment, patch)
    result_id: str | None = None
    data: dict = field(default_factory=dict)


class Ledger:
    """Everything the clients saw; shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[Record] = []
        self.writes: list[Write] = []

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def write(self, write: Write) -> Write:
        with self.lock:
            self.writes.append(write)
        return write


def endpoint(path: str) -> str:
    """`/api/v1/invoices/<uuid>/finalize/?x` -> `/api/v1/invoices/{id}/finalize/`."""
    return UUID_RE.sub("{id}", path.split("?", 1)[0])


class Client:
    """One front end: its user, tokens and the rows it made (only what was acknowledged)."""

    def __init__(self, *, name, port, email, password, role, seed, ledger, run_id, t0):
        self.name, self.port, self.email, self.password = name, port, email, password
        self.role, self.seed, self.ledger, self.run_id, self.t0 = role, seed, ledger, run_id, t0
        self.rng = random.Random(f"{run_id}-{name}")
        self.access = self.refresh_token = None
        self.seq = 0
        self.contacts: dict[str, int] = {}  # own contact id -> version
        self.drafts: list[str] = []
        self.open: dict[str, Decimal] = {}  # own open invoice id -> total due
        self.invoices: list[str] = []
        self.next_page: str | None = None

    # --- HTTP ---------------------------------------------------------------------------

    def raw(self, method, path, body=None, *, auth=True, headers=None):
        """One request; records it; returns (status, headers dict, parsed body or text)."""
        hdrs = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", "Accept": "application/json"}
        if auth:
            hdrs.update(self.credentials(method))
        payload = None
        if isinstance(body, str):  # a form, already encoded
            payload = body.encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        at = time.monotonic() - self.t0
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            status, rheaders = response.status, {k.lower(): v for k, v in response.getheaders()}
            self.take_cookies(response.headers.get_all("Set-Cookie") or [])
        except (OSError, http.client.HTTPException) as exc:
            self.ledger.add(Record(at, self.name, method, path, 0, None, repr(exc)))
            raise Transport(repr(exc)) from exc
        finally:
            conn.close()
        keep = text[:4000] if status >= 500 else ""
        self.ledger.add(
            Record(at, self.name, method, path, status, rheaders.get("retry-after"), keep)
        )
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        return status, rheaders, data

    def credentials(self, method: str) -> dict:
        return {"Authorization": f"Bearer {self.access}"} if self.access else {}

    def take_cookies(self, values: list[str]) -> None:
        """App clients use no cookies."""

    def call(self, method, path, body=None, *, write: Write | None = None, headers=None):
        """The request with the client's policy (re-authenticate on 401, wait on 503/429)."""
        status, rheaders, data = 0, {}, None
        for _ in range(MAX_ATTEMPTS):
            try:
                status, rheaders, data = self.raw(method, path, body, headers=headers)
            except Transport:
                if write is not None:
                    write.statuses.append(0)
                    write.outcome = "unknown"
                    return 0, {}, None
                self.pause(1.0)
                continue
            if write is not None:
                write.statuses.append(status)
            if status == 401:
                self.authenticate()
                continue
            if status in (429, 503):
                self.pause(self.retry_after(rheaders))
                continue
            break
        if write is not None:
            write.outcome = "ack" if 200 <= status < 300 else "rejected"
        return status, rheaders, data

    @staticmethod
    def retry_after(headers) -> float:
        try:
            return min(MAX_WAIT, max(0.2, float(headers.get("retry-after", "1"))))
        except ValueError:
            return 1.0

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    # --- auth ---------------------------------------------------------------------------

    def login(self) -> bool:
        body = {"email": self.email, "password": self.password, "client": "app"}
        for _ in range(MAX_ATTEMPTS):
            try:
                status, headers, data = self.raw("POST", f"{API}/auth/login/", body, auth=False)
            except Transport:
                self.pause(1.0)
                continue
            if status == 200:
                self.access, self.refresh_token = data["access_token"], data["refresh_token"]
                return True
            self.pause(self.retry_after(headers) if status in (429, 503) else 2.0)
        return False

    def refresh(self) -> bool:
        """Rotate the tokens; False when the refresh token was refused (log in again)."""
        for _ in range(MAX_ATTEMPTS):
            try:
                status, headers, data = self.raw(
                    "POST",
                    f"{API}/auth/refresh/",
                    {"refresh_token": self.refresh_token},
                    auth=False,
                )
            except Transport:
                # The rotation may have happened without us seeing the new tokens.
                return False
            if status == 200:
                self.access, self.refresh_token = data["access_token"], data["refresh_token"]
                return True
            if status in (429, 503):
                self.pause(self.retry_after(headers))
                continue
            return False
        return False

    def authenticate(self) -> None:
        if not (self.refresh_token and self.refresh()):
            self.login()


class SessionClient(Client):
    """A staff member in Django admin who also uses the API with its session cookie and
    CSRF token (no Redis involved in authenticating: its writes can reach the database
    while Redis is down)."""

    CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cookies: dict[str, str] = {}

    def credentials(self, method: str) -> dict:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD", "OPTIONS") and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
            headers["Referer"] = "https://127.0.0.1/admin/"
        return headers

    def take_cookies(self, values: list[str]) -> None:
        for value in values:
            for name, morsel in http.cookies.SimpleCookie(value).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def login(self) -> bool:
        for _ in range(MAX_ATTEMPTS):
            self.cookies.pop("sessionid", None)
            try:
                status, headers, page = self.raw("GET", "/admin/login/")
                match = self.CSRF_INPUT.search(page if isinstance(page, str) else "")
                if status != 200 or not match:
                    self.pause(self.retry_after(headers) if status in (429, 503) else 2.0)
                    continue
                form = urllib.parse.urlencode(
                    {
                        "username": self.email,
                        "password": self.password,
                        "csrfmiddlewaretoken": match.group(1),
                        "next": "/admin/",
                    }
                )
                status, headers, _ = self.raw(
                    "POST",
                    "/admin/login/",
                    form,
                    headers={"Referer": "https://127.0.0.1/admin/login/"},
                )
            except Transport:
                self.pause(1.0)
                continue
            if status == 302 and "sessionid" in self.cookies:
                return True
            self.pause(self.retry_after(headers) if status in (429, 503) else 2.0)
        return False

    def refresh(self) -> bool:
        return False  # a session has no refresh: log in again

    def authenticate(self) -> None:
        self.login()
