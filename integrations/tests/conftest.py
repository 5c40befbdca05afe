"""Fixtures for the integrations tests: the Moneybird sandbox on a free loopback port.

`sandbox` gives a freshly reset sandbox (demo data, no faults, empty request log,
real clock, rate limit off) for each test, served by one server per test session:

    def test_x(sandbox):
        sandbox.api_url, sandbox.administration_id, sandbox.token
        sandbox.control.fault("error", method="GET", path="*/contacts", status=503)
        assert sandbox.control.calls() == [("GET", "/api/v2/.../contacts.json", 503)]

`connection` is an active connection to that sandbox, its shared request budget emptied.
"""

from dataclasses import dataclass

import pytest

from integrations.providers.budget import RequestBudget, connection_key
from sandbox import SandboxControl, SandboxServer

from .factories import ConnectionFactory

SANDBOX_TOKEN = "sandbox-test-token-7f3a"


@dataclass
class Sandbox:
    server: SandboxServer
    control: SandboxControl
    base_url: str
    api_url: str
    administration_id: str
    token: str

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def url(self, resource: str) -> str:
        """`sandbox.url("contacts.json")` -> the full emulated URL."""
        return f"{self.api_url}/{self.administration_id}/{resource}"


@pytest.fixture(scope="session")
def sandbox_server():
    server = SandboxServer(token=SANDBOX_TOKEN, rate_limit=False).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server, settings):
    settings.INTEGRATIONS_ALLOW_LOCAL_URLS = True
    control = SandboxControl(sandbox_server.base_url)
    control.reset()
    yield Sandbox(
        server=sandbox_server,
        control=control,
        base_url=sandbox_server.base_url,
        api_url=sandbox_server.api_url,
        administration_id=sandbox_server.administration_id,
        token=SANDBOX_TOKEN,
    )
    control.close()


@pytest.fixture
def connection(sandbox):
    """An active connection to the sandbox, its shared request budget emptied."""
    connection = ConnectionFactory(
        base_url=sandbox.api_url,
        administration_id=sandbox.administration_id,
        api_token=sandbox.token,
    )
    budget = RequestBudget(connection_key(connection.base_url, connection.administration_id))
    budget.clear()
    yield connection
    budget.clear()
