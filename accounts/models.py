"""Accounts: the custom user model (email login, UUID key)."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from project.models import TimestampedModel, UUIDModel


class UserManager(BaseUserManager):
    """Creates users by email; looks them up by email regardless of case."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff and is_superuser.")
        return self._create_user(email, password, **extra_fields)


class User(UUIDModel, TimestampedModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField("email address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    is_verified = models.BooleanField(
        default=False, help_text="The user has confirmed their email address."
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="The user can log into the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)


class SessionEndReason(models.TextChoices):
    """Why a session ended (shown in admin; `reuse` means a stolen refresh token)."""

    LOGOUT = "logout", "Logged out"
    LOGOUT_ALL = "logout_all", "Logged out everywhere"
    REUSE = "reuse", "Refresh token reused"
    PASSWORD_CHANGE = "password_change", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset"
    DEACTIVATED = "deactivated", "User deactivated"
    ROLE_CHANGE = "role_change", "Role changed"
    ADMIN = "admin", "Revoked by an administrator"


class AuthSession(UUIDModel):
    """One login: the device and address, its lifetimes, and the current access token.

    Tokens are never stored, only SHA-256 digests: `access_digest` names the one live
    access token in the cache, so revoking the session can delete it at once.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    user_agent = models.CharField(max_length=512, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    idle_expires_at = models.DateTimeField(help_text="Ends unless refreshed before this.")
    expires_at = models.DateTimeField(help_text="Ends at this time whatever happens.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, choices=SessionEndReason.choices, blank=True)
    access_digest = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "login session"
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_session_user_idx")]

    def __str__(self):
        return f"{self.user} ({self.created_at:%Y-%m-%d %H:%M})"

    def is_active_at(self, now) -> bool:
        return self.revoked_at is None and now < self.idle_expires_at and now < self.expires_at


class RefreshToken(models.Model):
    """A refresh token's digest. Used once; a second use reveals theft."""

    session = models.ForeignKey(
        AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"refresh token of {self.session_id}"
