"""Apply `accounts/roles.py` to the role groups (also runs after every `migrate`)."""

from django.core.management.base import BaseCommand

from accounts.services import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and give each exactly its declared permissions (idempotent)."

    def handle(self, *args, **options):
        for role, result in roles_sync().items():
            self.stdout.write(
                f"{role.label}: {result.group.permissions.count()} permissions "
                f"(+{result.added} -{result.removed})"
            )
            if result.missing:
                self.stderr.write(
                    self.style.WARNING(
                        f"  skipped, not created yet: {', '.join(sorted(result.missing))}"
                    )
                )
