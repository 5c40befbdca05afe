"""Create the demo data set (users of each role, contacts, products, invoices) once."""

from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from project import devservices
from records.management.demo import INVOICE_STATES, seed_demo


@contextmanager
def _broker_running():
    """The services queue emails after commit; in the embedded default the private Valkey
    is not up yet when `make run` seeds, so run it for the duration of the command."""
    started = False
    if settings.REDIS_EMBEDDED:
        started = devservices.ensure_valkey()
    try:
        yield
    finally:
        if started:
            devservices.stop_valkey()


class Command(BaseCommand):
    help = (
        "Create the demo data set if missing: a user of each role, 20 contacts, 30 products "
        "and 50 invoices in every state; print the logins (DEBUG only). Idempotent."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo data is for local development (DEBUG=true) only.")
        with _broker_running():
            result = seed_demo()
        if result.created_anything:
            made = ", ".join(f"{n} {kind}" for kind, n in result.created.items() if n)
            states = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in INVOICE_STATES.items())
            self.stdout.write(f"Demo data: created {made} (invoices: {states}).")
        else:
            self.stdout.write("Demo data: already present, nothing new created.")
        self.stdout.write("Demo logins (email / password):")
        for role, email, password, new in result.users:
            state = "created" if new else "exists"
            self.stdout.write(f"  {role:<13} {email} / {password}  ({state})")
