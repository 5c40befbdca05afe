"""Django's `changepassword`, saved through `services.user_password_set`: the user's
sessions end at once, as for every other password change."""

from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts import services
from accounts.models import User

MAX_TRIES = 3


class Command(changepassword.Command):
    help = "Change a user's password (their sessions end)."

    def handle(self, *args, **options):
        email = options["username"]
        if not email:
            raise CommandError("Name the user by email address.")
        try:
            user = User.objects.db_manager(options["database"]).get_by_natural_key(email)
        except User.DoesNotExist:
            raise CommandError(f"user '{email}' does not exist") from None
        self.stdout.write(f"Changing password for user '{user}'")
        for _ in range(MAX_TRIES):
            password = self._get_pass()
            if password != self._get_pass("Password (again): "):
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(password, user)
            except ValidationError as err:
                self.stderr.write("\n".join(err.messages))
                continue
            services.user_password_set(user=user, password=password, by=None)
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")
