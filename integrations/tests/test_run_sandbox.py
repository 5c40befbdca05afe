"""`manage.py run_sandbox` as its own process: bad token, rate limit."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox_process():
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", "0", "--token", "cli-token"],
        cwd=BASE_DIR, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(3))
    yield lines
    proc.terminate()
    assert proc.wait(timeout=20) == 0


def test_run_sandbox_serves_401_and_the_151st_request_gets_429(sandbox_process):
    admin = sandbox_process["administration_id"]
    url = f"{sandbox_process['api_url']}/{admin}/contacts.json"
    with httpx.Client(timeout=10) as http:
        bad = http.get(url, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert bad.json() == {"error": "The access token is invalid",
                              "symbolic": {"token": "invalid"}}  # fmt: skip
        good = {"Authorization": "Bearer cli-token"}
        statuses = [http.get(url, headers=good).status_code for _ in range(150)]
        assert statuses == [200] * 150
        limited = http.get(url, headers=good)
    assert limited.status_code == 429
    assert limited.text == "Retry later"
    assert limited.headers["RateLimit-Limit"] == "150"
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert limited.headers["Retry-After"] == limited.headers["RateLimit-Reset"]
    assert int(limited.headers["Retry-After"]) > 1_000_000_000  # an absolute Unix time
