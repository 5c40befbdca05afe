"""Re-encrypt every stored connection credential with the first FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError

from integrations.services import credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every connection's credentials with the first key of "
        "FIELD_ENCRYPTION_KEYS (idempotent). Put the new key first, run this, then remove "
        "the old key."
    )

    def handle(self, *args, **options):
        result = credentials_rotate()
        self.stdout.write(
            f"Rotated {result.rotated} connection credential(s); "
            f"{result.current} already under the current key."
        )
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} connection(s) could not be decrypted with any key and "
                f"were left as they are: {', '.join(result.failed)}"
            )
