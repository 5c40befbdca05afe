"""`manage.py run_sandbox` as its own process (Must show 1), and as `make run` starts it."""

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from project import devservices
from project.devservices import procfile_commands

from . import openapi

BASE_DIR = Path(__file__).resolve().parents[2]


def _start(command: list[str] | str, env: dict | None = None):
    """Start the sandbox in a process group of its own; returns (process, printed lines)."""
    proc = subprocess.Popen(
        command, shell=isinstance(command, str), cwd=BASE_DIR,
        env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines = {}
    for _ in range(3):
        line = proc.stdout.readline().strip()
        assert "=" in line, f"run_sandbox printed {line!r}"
        key, value = line.split("=", 1)
        lines[key] = value
    return proc, lines


def _stop(proc) -> int:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    finally:
        proc.stdout.close()


@pytest.fixture
def sandbox_process():
    proc, lines = _start(
        [sys.executable, "manage.py", "run_sandbox", "--port", "0", "--token", "cli-token"]
    )
    yield lines
    assert _stop(proc) == 0


def test_run_sandbox_serves_401_and_the_151st_request_gets_429(sandbox_process):
    admin = sandbox_process["administration_id"]
    api = sandbox_process["api_url"]
    url = f"{api}/{admin}/contacts.json"
    good = {"Authorization": "Bearer cli-token"}
    with httpx.Client(timeout=10) as http:
        bad = http.get(url, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert bad.json() == {"error": "The access token is invalid",
                              "symbolic": {"token": "invalid"}}  # fmt: skip
        openapi.validate(bad)
        no_header = http.get(url)
        assert no_header.status_code == 401
        served = [
            http.get(f"{api}/administrations.json", headers=good),
            http.get(f"{api}/{admin}/contacts", headers=good),  # without .json
            http.get(f"{api}/{admin}/tax_rates.json", headers=good),
            http.get(f"{api}/{admin}/ledger_accounts", headers=good),
            http.get(f"{api}/{admin}/products.json", headers=good),
            http.get(f"{api}/{admin}/sales_invoices/synchronization", headers=good),
        ]
        for response in served:
            assert response.status_code == 200, response.text
            openapi.validate(response)
        assert served[0].json()[0]["id"] == admin
        assert len(served[1].json()) == 3
        remaining = int(served[-1].headers["RateLimit-Remaining"])
        assert remaining == 150 - len(served)
        statuses = [http.get(url, headers=good).status_code for _ in range(remaining)]
        assert statuses == [200] * remaining  # 150 in all within the window
        limited = http.get(url, headers=good)  # the 151st
    assert limited.status_code == 429
    openapi.validate(limited)
    assert limited.text == "Retry later"
    assert limited.headers["RateLimit-Limit"] == "150"
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert limited.headers["Retry-After"] == limited.headers["RateLimit-Reset"]
    assert int(limited.headers["Retry-After"]) > 1_000_000_000  # an absolute Unix time


def test_make_run_supervises_the_sandbox_on_a_fixed_loopback_port(monkeypatch, tmp_path):
    monkeypatch.delenv("SANDBOX_PORT", raising=False)
    monkeypatch.setattr(devservices, "VAR_DIR", tmp_path)
    command = procfile_commands("python")["sandbox"]
    assert shlex.split(command) == ["exec", "python", "manage.py", "run_sandbox",
                                    "--host", "127.0.0.1", "--port", "8765",
                                    "--data-file", str(tmp_path / "sandbox.store")]  # fmt: skip
    monkeypatch.setenv("SANDBOX_PORT", "9123")
    assert shlex.split(procfile_commands("python")["sandbox"])[7] == "9123"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/11")
    assert "sandbox" in procfile_commands("python")


def test_the_procfile_sandbox_accepts_the_settings_demo_token(monkeypatch, tmp_path):
    """The exact command `make run` supervises, on a free port, token from SANDBOX_TOKEN."""
    monkeypatch.setattr(devservices, "VAR_DIR", tmp_path)  # not the developer's demo data
    monkeypatch.setenv("SANDBOX_PORT", "0")  # a free port: `make run` may hold 8765
    command = procfile_commands(shlex.quote(sys.executable))["sandbox"]
    assert settings.SANDBOX_TOKEN not in command  # never on the command line
    proc, lines = _start(command, env={"SANDBOX_TOKEN": "from-env"})
    try:
        url = f"{lines['api_url']}/{lines['administration_id']}/tax_rates"
        with httpx.Client(timeout=10) as http:
            assert http.get(url, headers={"Authorization": "Bearer from-env"}).status_code == 200
            bad = http.get(url, headers={"Authorization": f"Bearer {settings.SANDBOX_TOKEN}x"})
            assert bad.status_code == 401
    finally:
        assert _stop(proc) == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_run_sandbox_refuses_a_non_loopback_host(host):
    with pytest.raises(CommandError, match="loopback"):
        call_command("run_sandbox", host=host, port=0, token="t")
