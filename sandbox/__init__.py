"""A Moneybird-compatible sandbox server (for the demo, the tests and evaluation).

A tool beside the product, not part of it: no module of accounts, records,
integrations or project imports it. It is a Django app only for its two management
commands (`run_sandbox`, which `make run` starts, and `ensure_sandbox_connection`, the
demo's connection to it); the server itself needs nothing from Django.

Start one in-process (background thread, free loopback port):

    from sandbox import SandboxServer, SandboxControl
    server = SandboxServer(token="t0ken").start()
    control = SandboxControl(server.base_url)
    ... server.api_url, server.administration_id ...
    server.stop()

or as its own process: `python manage.py run_sandbox --port 8765 --token t0ken`.
The pytest fixture `sandbox` (integrations/tests/conftest.py) wraps the former.
Modules: server (HTTP), api (emulated endpoints), store (records), control
(control API), faults, ratelimit, clock, seed, client (control API client).
"""

from .client import SandboxControl
from .server import SandboxServer

__all__ = ["SandboxControl", "SandboxServer"]
