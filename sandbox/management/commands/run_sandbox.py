"""`manage.py run_sandbox --port 8765 --token TOKEN`: the Moneybird sandbox in the foreground.

`--port` and `--token` default to the settings `SANDBOX_PORT` and `SANDBOX_TOKEN` (env),
which is how `make run` starts it. It listens on loopback only: its control API
(`/_sandbox/`) has no authentication and must never be reachable from elsewhere.
"""

import ipaddress
import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox import SandboxServer
from sandbox.seed import DEFAULT_ADMINISTRATION_ID


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _interrupt(*_):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the Moneybird-compatible sandbox server on loopback (demo data, one token)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="default SANDBOX_PORT (8765); 0 picks a free port",
        )
        parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
        parser.add_argument(
            "--token", default=None, help="the bearer token it accepts (default SANDBOX_TOKEN)"
        )
        parser.add_argument("--administration-id", default=DEFAULT_ADMINISTRATION_ID)
        parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
        parser.add_argument(
            "--no-rate-limit", action="store_true", help="switch off 150 requests / 5 minutes"
        )
        parser.add_argument(
            "--data-file",
            type=Path,
            default=None,
            help="keep the store in this file: loaded at start when it exists, written "
            "after every change (without it, the store lives in memory only)",
        )

    def handle(self, *args, **options):
        if not options["administration_id"].isdigit():
            raise CommandError("--administration-id must be numeric")
        if not _is_loopback(options["host"]):
            raise CommandError("--host must be a loopback address (the control API has no auth)")
        port = settings.SANDBOX_PORT if options["port"] is None else options["port"]
        token = options["token"] or settings.SANDBOX_TOKEN
        if not token:
            raise CommandError("--token (or SANDBOX_TOKEN) is required")
        try:
            server = SandboxServer(
                token=token,
                host=options["host"],
                port=port,
                administration_id=options["administration_id"],
                rate_limit=not options["no_rate_limit"],
                seed=options["seed"],
                data_file=options["data_file"],
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{port}: {exc}") from exc
        except ValueError as exc:  # an unreadable --data-file
            raise CommandError(f"cannot load {options['data_file']}: {exc}") from exc
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
