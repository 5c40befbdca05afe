"""Input serializers (one per write) and the output serializers of accounts."""

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from accounts.ages import age_on
from accounts.models import AuthSession, User
from accounts.roles import Role
from accounts.selectors import user_is_administrator, user_role
from project.api.serializers import StrictInputSerializer

# Fields a user row has that no input serializer here accepts as such.
USER_FIELD_NAMES = {field.name for field in User._meta.get_fields()} | {"role", "age", "sessions"}


class AccountsInput(StrictInputSerializer):
    """Input of the auth and user endpoints: a user field sent where it is not writable
    is "read-only", any other extra key "Unknown field."."""

    known_field_names = USER_FIELD_NAMES


# --- Output ---------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthSession
        fields = ["id", "created_at", "last_seen_at", "user_agent", "ip", "expires_at", "current"]

    def get_current(self, session) -> bool:
        grant = getattr(self.context.get("request"), "auth", None)
        return str(session.pk) == getattr(grant, "session_id", None)


class UserSerializer(serializers.ModelSerializer):
    """A user as others see them; date of birth, last login and sessions are shown to
    Administrators (sessions) and to the user themselves (date of birth, last login)."""

    age = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()
    sessions = serializers.SerializerMethodField()

    SELF_OR_ADMIN = ("date_of_birth", "last_login", "date_joined")
    ADMIN_ONLY = ("sessions",)

    class Meta:
        model = User
        fields = [
            "id", "email", "name", "age", "is_verified", "role", "is_active", "created_at",
            "date_of_birth", "last_login", "date_joined", "sessions",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._today = timezone.localdate()

    def get_age(self, user) -> int | None:
        return age_on(user.date_of_birth, self._today) if user.date_of_birth else None

    def get_role(self, user) -> str | None:
        role = user_role(user)
        return role.value if role else None

    def get_sessions(self, user) -> list[dict]:
        sessions = getattr(user, "active_sessions", [])
        return SessionSerializer(sessions, many=True, context=self.context).data

    def to_representation(self, user):
        data = super().to_representation(user)
        viewer = getattr(self.context.get("request"), "user", None)
        is_admin = user_is_administrator(viewer)
        if not (is_admin and hasattr(user, "active_sessions")):
            for name in self.ADMIN_ONLY:
                data.pop(name, None)
        if not (is_admin or (viewer is not None and viewer.pk == user.pk)):
            for name in self.SELF_OR_ADMIN:
                data.pop(name, None)
        return data


class CsrfTokenSerializer(serializers.Serializer):
    csrf_token = serializers.CharField(help_text="Send it as the X-CSRFToken header.")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class BrowserTokensSerializer(serializers.Serializer):
    """Login or refresh for browsers: the tokens are in HttpOnly cookies, not here."""

    user = UserSerializer()
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()


class AppTokensSerializer(serializers.Serializer):
    """Login with `client=app`, or refresh with `refresh_token` in the body."""

    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Seconds the access token lives.")
    refresh_expires_in = serializers.IntegerField()
    user = UserSerializer()


TOKEN_RESPONSES = {
    200: PolymorphicProxySerializer(
        component_name="Tokens",
        serializers=[BrowserTokensSerializer, AppTokensSerializer],
        resource_type_field_name=None,
    )
}


# --- Input: auth --------------------------------------------------------------------


class LoginSerializer(AccountsInput):
    email = serializers.CharField(max_length=254, trim_whitespace=True)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    client = serializers.ChoiceField(choices=["browser", "app"], default="browser")


class RefreshSerializer(AccountsInput):
    refresh_token = serializers.CharField(required=False, max_length=4096, trim_whitespace=True)


class PasswordChangeSerializer(AccountsInput):
    old_password = serializers.CharField(max_length=4096, trim_whitespace=False)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


class PasswordResetSerializer(AccountsInput):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(AccountsInput):
    uid = serializers.CharField(max_length=200)
    token = serializers.CharField(max_length=200)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


class VerifyEmailSerializer(AccountsInput):
    token = serializers.CharField(max_length=1000)


# --- Input: users -------------------------------------------------------------------


class ProfileUpdateSerializer(AccountsInput):
    """What a user may change about themselves."""

    name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    date_of_birth = serializers.DateField(allow_null=True, required=False)


class UserUpdateSerializer(ProfileUpdateSerializer):
    """What an Administrator may change about a user."""

    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class UserCreateSerializer(AccountsInput):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=150, allow_blank=True, required=False, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    date_of_birth = serializers.DateField(allow_null=True, required=False, default=None)
    password = serializers.CharField(
        max_length=4096, required=False, allow_blank=True, trim_whitespace=False,
        help_text="Leave out to send an invitation email with a link to choose one.",
    )  # fmt: skip
