"""The soak's processes: start, watch and stop what it runs, and read their logs.

Every process is started in its own session (process group) and stopped by that group's
id, first with SIGTERM, then SIGKILL after a grace period; nothing else is touched.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Procs:
    def __init__(self, run_dir: Path, tmp: Path, log):
        self.run_dir, self.tmp, self.log = run_dir, tmp, log
        self.procs: dict[str, subprocess.Popen] = {}
        self.files = []

    def _logfile(self, name: str):
        handle = open(self.run_dir / f"{name}.log", "ab")  # noqa: SIM115
        self.files.append(handle)
        return handle

    def start(self, name: str, cmd: list[str], env: dict | None) -> subprocess.Popen:
        out = self._logfile(name)
        proc = subprocess.Popen(
            cmd,
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs[name] = proc
        self.log(f"started {name} (pid {proc.pid})")
        return proc

    def run(self, args: list[str], env: dict, name: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        (self.run_dir / f"{name}.log").write_text(result.stdout + result.stderr)
        if result.returncode:
            raise RuntimeError(f"{name} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result.stdout

    def pid(self, name: str) -> int | None:
        proc = self.procs.get(name)
        return proc.pid if proc and proc.poll() is None else None

    def exited(self) -> list[tuple[str, int]]:
        """The processes that ended by themselves (a stopped one is no longer listed)."""
        return [
            (name, proc.returncode) for name, proc in self.procs.items() if proc.poll() is not None
        ]

    def children(self, name: str) -> list[int]:
        pid = self.pid(name)
        return children_of(pid) if pid else []

    # --- Redis ------------------------------------------------------------------------------

    def redis_start(self, port: int) -> None:
        data = self.tmp / "redis"
        data.mkdir(exist_ok=True)
        self.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data),
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            None,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {port}")

    def redis_stop(self) -> None:
        self.stop("redis")

    # --- waiting ----------------------------------------------------------------------------

    def wait_port(self, port: int, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited early; see {self.run_dir / (name + '.log')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not listen on {port}")

    def wait_healthy(self, port: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            if self.procs["gunicorn"].poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.run_dir / 'gunicorn.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"/healthz did not answer 200 (last: {status})")

    # --- stopping ---------------------------------------------------------------------------

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.log(f"{name} ignored SIGTERM for {STOP_GRACE} s: SIGKILL")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in ("gunicorn", "celery", "sandbox", "redis"):
            self.stop(name)
        for name in list(self.procs):
            self.stop(name)

    def cleanup(self) -> None:
        for handle in self.files:
            handle.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def worker_restarts(self) -> list[str]:
        text = (self.run_dir / "gunicorn.log").read_text(errors="replace")
        booted = text.count("Booting worker with pid")
        lines = [
            line
            for line in text.splitlines()
            if "WORKER TIMEOUT" in line or "was sent SIG" in line or "Worker failed" in line
        ]
        if booted > 2 or lines:
            return [f"gunicorn booted {booted} workers for 2", *lines[:10]]
        return []


_START = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ |\[\d{4}-\d\d-\d\d )")
_LEVEL = re.compile(r"\b(ERROR|CRITICAL)\b")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|0x[0-9a-f]+|\d{4}-\d\d-\d\d[ T][\d:,.]+|pid[: ]+\d+")


def tracebacks(path: Path) -> list[tuple[int, str]]:
    """Distinct logged errors with a traceback, and gunicorn's own errors (a worker
    timeout), most frequent first: (count, the first occurrence)."""
    if not path.exists():
        return []
    blocks, current = [], None
    for line in path.read_text(errors="replace").splitlines():
        if _START.match(line):
            if current:
                blocks.append(current)
            current = [line] if _LEVEL.search(line[:60]) else None
        elif current is not None:
            current.append(line)
    if current:
        blocks.append(current)
    counts, first = Counter(), {}
    for block in blocks:
        gunicorn_error = "] [ERROR]" in block[0] or "] [CRITICAL]" in block[0]
        if not gunicorn_error and not any(line.startswith("Traceback") for line in block):
            continue  # an error logged without a crash (each 503 logs one line)
        key = _ID.sub("#", block[0].split(" ", 2)[-1] + "|" + block[-1])
        counts[key] += 1
        first.setdefault(key, "\n".join(block))
    return [(n, first[key]) for key, n in counts.most_common()]
