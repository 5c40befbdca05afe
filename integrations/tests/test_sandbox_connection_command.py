"""`manage.py ensure_sandbox_connection` (run by `make run`): one working connection."""

import pytest
from django.core.management import CommandError, call_command

from integrations import selectors
from integrations.models import Connection, ConnectionStatus
from integrations.services import connection_test
from sandbox.seed import DEFAULT_ADMINISTRATION_ID

pytestmark = pytest.mark.django_db


def test_creates_one_connection_that_reaches_the_sandbox(sandbox, settings, capsys):
    settings.DEBUG = True
    settings.SANDBOX_TOKEN = sandbox.token
    port = sandbox.server.port

    call_command("ensure_sandbox_connection", port=port)
    call_command("ensure_sandbox_connection", port=port)

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"Sandbox connection (created): http://127.0.0.1:{port}/api/v2",
        f"Sandbox connection (exists, active): http://127.0.0.1:{port}/api/v2",
    ]
    connection = Connection.objects.get()
    assert connection.administration_id == DEFAULT_ADMINISTRATION_ID
    assert connection.status == ConnectionStatus.ACTIVE
    assert selectors.connection_credentials(connection).api_token == sandbox.token
    assert connection_test(connection=connection).ok is True


def test_refused_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local development"):
        call_command("ensure_sandbox_connection")
    assert not Connection.objects.exists()
