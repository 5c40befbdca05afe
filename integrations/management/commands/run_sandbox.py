"""`manage.py run_sandbox --port 8765 --token TOKEN`: the Moneybird sandbox in the foreground."""

import signal

from django.core.management.base import BaseCommand, CommandError

from integrations.sandbox import SandboxServer
from integrations.sandbox.seed import DEFAULT_ADMINISTRATION_ID


def _interrupt(*_):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the Moneybird-compatible sandbox server on loopback (demo data, one token)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1", help="loopback only by default")
        parser.add_argument("--token", required=True, help="the bearer token it accepts")
        parser.add_argument("--administration-id", default=DEFAULT_ADMINISTRATION_ID)
        parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
        parser.add_argument(
            "--no-rate-limit", action="store_true", help="switch off 150 requests / 5 minutes"
        )

    def handle(self, *args, **options):
        if not options["administration_id"].isdigit():
            raise CommandError("--administration-id must be numeric")
        try:
            server = SandboxServer(
                token=options["token"],
                host=options["host"],
                port=options["port"],
                administration_id=options["administration_id"],
                rate_limit=not options["no_rate_limit"],
                seed=options["seed"],
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C
        self.stdout.write(f"administration_id={server.administration_id}")
        self.stdout.write(f"api_url={server.api_url}")
        self.stdout.write(f"control_url={server.base_url}/_sandbox/")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
