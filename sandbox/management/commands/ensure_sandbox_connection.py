"""`manage.py ensure_sandbox_connection`: the demo's connection to the bundled sandbox.

`make run` starts the Moneybird sandbox on SANDBOX_PORT with SANDBOX_TOKEN and runs
this, so the demo syncs out of the box. Idempotent: an existing connection to that
administration is kept as it is (its token, status and interval are the user's).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations import selectors, services
from integrations.models import Provider
from sandbox.seed import DEFAULT_ADMINISTRATION_ID

NAME = "Moneybird sandbox (demo)"


class Command(BaseCommand):
    help = "Create the connection to the local Moneybird sandbox if missing (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="default SANDBOX_PORT")

    def handle(self, *args, port, **options):
        if not settings.DEBUG:
            raise CommandError("The sandbox connection is for local development (DEBUG=true).")
        port = port or settings.SANDBOX_PORT
        base_url = f"http://127.0.0.1:{port}/api/v2"
        existing = selectors.connection_find(
            provider=Provider.MONEYBIRD,
            base_url=base_url,
            administration_id=DEFAULT_ADMINISTRATION_ID,
        )
        if existing is not None:
            self.stdout.write(f"Sandbox connection (exists, {existing.status}): {base_url}")
            return
        try:
            services.connection_create(
                provider=Provider.MONEYBIRD,
                name=NAME,
                base_url=base_url,
                administration_id=DEFAULT_ADMINISTRATION_ID,
                api_token=settings.SANDBOX_TOKEN,
            )
        except ValidationError as exc:
            raise CommandError(f"cannot create the sandbox connection: {exc.messages}") from exc
        self.stdout.write(f"Sandbox connection (created): {base_url}")
