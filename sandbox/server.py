"""The sandbox HTTP server: a standard-library ThreadingHTTPServer on loopback.

    server = SandboxServer(token="secret").start()   # background thread, free port
    server.api_url            # http://127.0.0.1:PORT/api/v2  (the client's base URL)
    server.administration_id  # the demo administration
    server.stop()

Emulated Moneybird paths live under `/api/v2/`, the control API under `/_sandbox/`
(see control.py). Each request runs in its own thread, so a slow or dropped answer
never holds up the others.
"""

import contextlib
import hmac
import json
import math
import os
import socket
import threading
from collections import deque
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from . import control
from .api import Request, Response, dispatch
from .clock import Clock
from .faults import Fault, FaultPlan
from .ratelimit import RateLimiter
from .seed import DEFAULT_ADMINISTRATION_ID, administration_create
from .store import Store

API_PREFIX = "/api/v2"
CONTROL_PREFIX = "/_sandbox"
MAX_BODY = 10 * 1024 * 1024
UNSCOPED = {"/administrations"}


class _Dropped(Exception):
    """Close the connection without an answer."""


class SandboxServer:
    """A Moneybird-compatible server with its own store, clock, rate limiter and faults."""

    def __init__(
        self,
        *,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        administration_id: str = DEFAULT_ADMINISTRATION_ID,
        rate_limit: bool = True,
        rate_limit_max: int = 150,
        rate_limit_window: int = 300,
        seed: str = "demo",
        log_limit: int = 100_000,
        data_file: Path | None = None,
    ) -> None:
        self.token = token
        self.data_file = data_file
        self.administration_id = administration_id
        self.clock = Clock()
        self.store = Store(self.clock)
        self.faults = FaultPlan()
        self._rate_limit_defaults = (rate_limit, rate_limit_max, rate_limit_window)
        self.rate_limiter = RateLimiter(
            self.clock, limit=rate_limit_max, window=rate_limit_window, enabled=rate_limit
        )
        self._log: deque[dict] = deque(maxlen=log_limit)
        self._log_lock = threading.Lock()
        self.stopping = threading.Event()
        self.reset(seed=seed)
        if data_file is not None and data_file.exists():
            self.store.restore(data_file.read_bytes())
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.sandbox = self
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="moneybird-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # --- state -------------------------------------------------------------------
    def reset(self, *, seed: str = "demo") -> None:
        if seed not in ("demo", "empty"):
            raise ValueError("seed must be 'demo' or 'empty'")
        with self.store.lock:
            self.clock.reset()
            self.store.administrations.clear()
            self.store.tokens.clear()
            self.store.add_token(self.token)
            administration_create(self.store, admin_id=self.administration_id, demo=seed == "demo")
            enabled, limit, window = self._rate_limit_defaults
            self.rate_limiter.configure(enabled=enabled, limit=limit, window=window)
            self.faults.clear()
            self.clear_log()

    def persist(self) -> None:
        """Write the store to `data_file` (if any), atomically: a crash mid-write leaves
        the previous snapshot. Called after every request that may have changed data."""
        if self.data_file is None:
            return
        with self.store.lock:
            payload = self.store.snapshot()
            self.data_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.data_file.with_name(self.data_file.name + ".partial")
            partial.write_bytes(payload)
            os.replace(partial, self.data_file)

    def state(self) -> dict:
        admin = self.store.administrations[self.administration_id]
        return {
            "administration_id": self.administration_id,
            "api_url": self.api_url,
            "clock": self.clock.state(),
            "rate_limit": self.rate_limiter.state(),
            "counts": {
                "contacts": len(admin.contacts),
                "products": len(admin.products),
                "sales_invoices": len(admin.invoices),
            },
        }

    def log_request(self, entry: dict) -> dict:
        with self._log_lock:
            self._log.append(entry)
        return entry

    def request_log(self) -> list[dict]:
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # --- one emulated request -------------------------------------------------------
    def handle_api(
        self, method: str, raw_path: str, query: dict, headers, body: bytes, entry: dict
    ) -> Response:
        path = raw_path.removeprefix(API_PREFIX)
        path = path.removesuffix(".json")
        fault = self.faults.take(method, path)
        if fault is not None:
            entry["fault"] = fault.kind
            early = self._fault_before(fault)
            if early is not None:
                return early
        token = _bearer(headers.get("Authorization", ""))
        scopes = next(
            (s for t, s in self.store.tokens.items() if token and hmac.compare_digest(t, token)),
            None,
        )
        if scopes is None:
            challenge = 'Bearer realm="Moneybird", error="invalid_token"'
            body = {"error": "The access token is invalid", "symbolic": {"token": "invalid"}}
            return Response(401, body, {"WWW-Authenticate": challenge})
        limited = self.rate_limiter.hit(token)
        rate_headers = limited.headers() if limited else {}
        if limited and not limited.allowed:
            return Response(429, "Retry later", rate_headers)
        if path not in UNSCOPED and "sales_invoices" not in scopes:
            return Response(401, {"error": "No access to [:sales_invoices]"}, rate_headers)
        try:
            parsed = json.loads(body) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return Response(
                400,
                {"error": "Body is not valid JSON", "symbolic": {"body": "invalid"}},
                rate_headers,
            )
        request = Request(
            method=method,
            path=path,
            query=query,
            body=parsed,
            base_url=self.base_url,
            raw_path=raw_path,
        )
        response = dispatch(self.store, request)
        response.headers.update(rate_headers)
        if fault is not None and fault.kind == "commit_then_fail":
            if fault.status:
                return Response(fault.status, {"error": "Internal server error"})
            raise _Dropped
        return response

    def _fault_before(self, fault: Fault) -> Response | None:
        if fault.kind == "drop":
            raise _Dropped
        if fault.kind == "slow":
            self.stopping.wait(float(fault.delay))
            return None
        if fault.kind == "error":
            if fault.status == 500:
                return Response(500, {"error": "Internal server error"})
            return Response(
                fault.status,
                f"<html><body>{fault.status}</body></html>",
                {"Content-Type": "text/html"},
            )
        if fault.kind == "rate_limit":
            at = math.ceil(self.clock.now() + float(fault.retry_after))
            headers = {
                "RateLimit-Limit": str(self.rate_limiter.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(at),
            }
            form = fault.retry_after_form
            if form == "epoch":
                headers["Retry-After"] = str(at)
            elif form == "seconds":
                headers["Retry-After"] = str(math.ceil(float(fault.retry_after)))
            elif form == "http_date":
                headers["Retry-After"] = formatdate(at, usegmt=True)
            return Response(429, "Retry later", headers)
        return None  # commit_then_fail acts after the handler


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MoneybirdSandbox/1.0"

    def log_message(self, format, *args):  # the request log replaces stderr noise
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm
        # holds the body until the client's delayed ACK (~40 ms per request on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        sandbox: SandboxServer = self.server.sandbox
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response(413, {"error": "Request body too large"}))
            return
        body = self.rfile.read(length) if length else b""
        if split.path.startswith(CONTROL_PREFIX + "/"):
            try:
                parsed = json.loads(body) if body.strip() else None
            except ValueError:
                self._send(Response(400, {"error": "Body is not valid JSON"}))
                return
            path = split.path.removeprefix(CONTROL_PREFIX)
            self._send(control.handle(sandbox, self.command, path, parsed))
            if self.command != "GET":
                sandbox.persist()
            return
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        entry = sandbox.log_request(
            {
                "method": self.command,
                "path": split.path,
                "query": split.query,
                "status": None,
                "fault": None,
                "retry_after": None,
                "time": sandbox.clock.now(),
            }
        )
        if not split.path.startswith(API_PREFIX + "/"):
            response = Response(
                404, {"error": "record not found", "symbolic": {"route": "not_found"}}
            )
        else:
            try:
                response = sandbox.handle_api(
                    self.command, split.path, query, self.headers, body, entry
                )
            except _Dropped:
                self._drop()
                sandbox.persist()  # "commit then fail" may have written
                return
        entry["status"] = response.status
        entry["retry_after"] = response.headers.get("Retry-After")
        if self.command != "GET":
            sandbox.persist()
        self._send(response)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: Response) -> None:
        headers = dict(response.headers)
        if response.status == 204 or response.body is None:
            payload = b""
        elif isinstance(response.body, str):
            payload = response.body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            payload = json.dumps(response.body, separators=(",", ":")).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)
