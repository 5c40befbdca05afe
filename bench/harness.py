"""Benchmark harness: start the app under gunicorn on loopback, load it from another process.

Usage from a suite module (`bench/bench_*.py` defines `run(ctx) -> list[Row]`):

    with ctx.server(worker_class="sync") as base_url:
        result = ctx.load(f"{base_url}/healthz", seconds=5)

`load` runs in a separate process (a pool of client threads with keep-alive
connections) so the client's work is not counted in the server's process.
Figures from one run are compared only with references measured in the same run.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    queries: list[int] = field(repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    @property
    def queries_per_request(self) -> float:
        return statistics.mean(self.queries) if self.queries else float("nan")


@dataclass
class Row:
    """One line of the results table; `reference` names the row it is compared with."""

    name: str
    result: LoadResult
    reference: str | None = None
    note: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client_thread(url, headers, deadline, out, lock):
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    conn = None
    latencies, queries, errors = [], [], 0
    while time.perf_counter() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        start = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = None
            continue
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status >= 400:
            errors += 1
        queries.append(int(response.getheader("X-Bench-Queries", "-1")))
        if response.getheader("Connection", "").lower() == "close" or response.will_close:
            conn.close()
            conn = None
    with lock:
        out["latencies"].extend(latencies)
        out["queries"].extend(queries)
        out["errors"] += errors


def _load_process(url, headers, seconds, concurrency, warmup, queue):
    out, lock = {"latencies": [], "queries": [], "errors": 0}, threading.Lock()
    # Warm-up: let workers open their database connections and fill caches.
    _client_thread(url, headers, time.perf_counter() + warmup, {"latencies": [], "queries": [],
                   "errors": 0}, lock)  # fmt: skip
    begin = time.perf_counter()
    deadline = begin + seconds
    threads = [
        threading.Thread(target=_client_thread, args=(url, headers, deadline, out, lock))
        for _ in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    queue.put((len(out["latencies"]), out["errors"], elapsed, out["latencies"], out["queries"]))


def load(url: str, *, headers: dict | None = None, seconds: float = 5.0, concurrency: int = 8,
         warmup: float = 1.0) -> LoadResult:  # fmt: skip
    """Drive GET `url` from a separate process for `seconds`; return the figures."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_load_process, args=(url, headers or {}, seconds, concurrency, warmup, queue)
    )
    proc.start()
    requests, errors, elapsed, latencies, queries = queue.get(timeout=seconds + warmup + 120)
    proc.join()
    return LoadResult(requests, errors, elapsed, latencies, queries)


@dataclass
class Context:
    env: dict

    @contextmanager
    def server(self, *, worker_class: str = "sync", workers: int | None = None,
               app: str | None = None, extra_env: dict | None = None):  # fmt: skip
        """Run gunicorn (bench settings) on a free loopback port; yield its base URL."""
        port = free_port()
        workers = workers or (os.cpu_count() or 2) * 2 + 1
        if app is None:
            app = "project.asgi:application" if "uvicorn" in worker_class else "project.wsgi"
        env = dict(self.env, **(extra_env or {}))
        cmd = [
            sys.executable, "-m", "gunicorn", app, "-c", "project/gunicorn_conf.py",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", worker_class, "--access-logfile", "/dev/null",
            "--max-requests", "0",
        ]  # fmt: skip
        log = open(BASE_DIR / "var" / "bench-gunicorn.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            self._wait_ready(proc, port)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

    @staticmethod
    def _wait_ready(proc, port, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited early; see var/bench-gunicorn.log")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/bench/bare-ok")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready; see var/bench-gunicorn.log")

    def load(self, url: str, **kwargs) -> LoadResult:
        return load(url, **kwargs)


def print_table(title: str, rows: list[Row]) -> None:
    by_name = {row.name: row for row in rows}
    print(f"\n## {title}\n")
    print("| measurement | req/s | p50 ms | p99 ms | queries/req | errors | vs reference |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        r = row.result
        compare = ""
        if row.reference and row.reference in by_name:
            ref = by_name[row.reference].result
            ratio = r.rps / ref.rps if ref.rps else float("nan")
            compare = f"{ratio:.2f}x the req/s of '{row.reference}'"
        if row.note:
            compare = f"{compare}; {row.note}" if compare else row.note
        print(
            f"| {row.name} | {r.rps:,.0f} | {r.p50:.1f} | {r.p99:.1f} | "
            f"{r.queries_per_request:.1f} | {r.errors} | {compare} |"
        )
