"""Create (or keep) the demo administrator that `make run` prints."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = "Create the demo administrator if missing and print its login (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo administrator is for local development (DEBUG=true) only.")
        password = settings.DEMO_ADMIN_PASSWORD
        User = get_user_model()
        user = User.objects.filter(email__iexact=DEMO_EMAIL).first()
        if user is None:
            User.objects.create_superuser(
                email=DEMO_EMAIL, password=password, name="Demo Administrator", is_verified=True
            )
            state = "created"
        else:
            state = "exists"
        self.stdout.write(f"Demo administrator ({state}): {DEMO_EMAIL} / {password}")
