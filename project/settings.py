"""Ledgerbridge settings: one file, driven by the environment (django-environ).

Every variable is listed in `.env.example` and in docs/settings.md; the steps that are
more than reading a variable are functions in `project/environment.py`.
With nothing configured the project runs on its embedded default: SQLite under
`var/` and a private Valkey server on a unix socket under `var/` (started by
`make run` / `make test`, see `project/devservices.py`) for the cache, the Celery
broker and, later, the channel layer. Setting `DATABASE_URL` / `REDIS_URL` swaps
the transport, never the logic.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from project.environment import (
    celery_url,
    configure_database,
    field_encryption_keys,
    local_field_encryption_key,
    local_secret_key,
    mailer,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default="") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)  # whitenoise warns when STATIC_ROOT is missing

DEBUG = env.bool("DEBUG", default=False)


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=true for local development)."
        )
    SECRET_KEY = local_secret_key(VAR_DIR)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before django.contrib.auth: its `changepassword` command is replaced by accounts' own.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "project",  # management commands (ping_worker), API-wide conventions; no models
    "records",
    "integrations",
    "sandbox",  # the Moneybird sandbox: a development tool (run_sandbox), no models
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "project.middleware.api_no_store",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": configure_database(
        env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        env,
        test_name=VAR_DIR / "test.sqlite3",
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Parallel test processes ---------------------------------------------------
# pytest-xdist runs the tests in several processes and names each one in
# PYTEST_XDIST_WORKER (gw0, gw1, ...); the Celery worker a test process starts inherits
# the variable. Each name is a namespace of its own on the one Redis database (the
# cache's key prefix, the Celery broker's and result backend's key prefix: queues,
# results, control messages) and in var/ (mail folder). Empty outside parallel tests.
TEST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")

# --- Redis: cache, Celery broker, channel layer -----------------------------
EMBEDDED_REDIS_SOCKET = VAR_DIR / "valkey.sock"
REDIS_URL = env.str("REDIS_URL", default="") or f"unix://{EMBEDDED_REDIS_SOCKET}?db=0"
REDIS_EMBEDDED = not env.str("REDIS_URL", default="")
_cache_key_prefix = env.str("CACHE_KEY_PREFIX", default="lb")

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{_cache_key_prefix}-{TEST_WORKER}" if TEST_WORKER else _cache_key_prefix,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }
}


# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or celery_url(REDIS_URL)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Late acknowledgement: a task whose worker dies is delivered again. The
# visibility timeout must exceed the longest task (time limit) and the longest
# countdown a retry uses, or Redis would hand a still-running task to a second worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {}
if TEST_WORKER:
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"test-{TEST_WORKER}:"
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["global_keyprefix"] = f"test-{TEST_WORKER}:"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- I18N, static ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Email -------------------------------------------------------------------------
# EMAIL_URL in django-environ's form (smtp+tls://user:pass@host:587, consolemail://,
# filemail:///absolute/dir or filemail://relative/dir). Default: with DEBUG, each
# message written as a file under VAR_DIR/mail/; without, SMTP on localhost.
_email_url = env.str("EMAIL_URL", default="") or ("filemail://" if DEBUG else "smtp://localhost:25")
MAILERS = {"default": mailer(_email_url, base_dir=BASE_DIR, var_dir=VAR_DIR, subfolder=TEST_WORKER)}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ledgerbridge <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ---------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_ENGINE = "project.sessions"  # keys checked before the lookup (see the module)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response: only this origin's scripts and styles (the
# admin needs nothing inline); the API docs page widens it (`project.urls`).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
CSRF_FAILURE_VIEW = "project.views.csrf_failure"

# --- REST API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "project.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["project.api.permissions.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "project.api.pagination.CursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "project.api.filters.FilterBackend",  # django-filter's, datetimes bounded
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["project.api.parsers.JSONParser"],  # size and depth bounded
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "project.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ledgerbridge API",
    "DESCRIPTION": "Customers, products and invoices, kept in step with the accounting system.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Ids in URLs (`project.api.routers`): UUIDs, hyphenated or not.
    "PATH_CONVERTER_OVERRIDES": {"uuid_id": {"type": "string", "format": "uuid"}},
    # Several resources have a `status` or `kind`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "OutboxKindEnum": "integrations.models.sync.OutboxKind.choices",
        "OutboxStatusEnum": "integrations.models.sync.OutboxStatus.choices",
        "AccountingStatusEnum": "records.models.AccountingStatus.choices",
    },
}

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Local demo only (`make run`, DEBUG=true): the administrator's password.
DEMO_ADMIN_PASSWORD = env.str("DEMO_ADMIN_PASSWORD", default="ledgerbridge-demo")

# --- Accounts: token authentication, sessions, lockout (issue 3) -------------------
# Opaque tokens, stored only as SHA-256 digests: access tokens in the cache above
# (Redis / embedded Valkey) for ACCESS_TOKEN_TTL, sessions and refresh tokens in the
# database. A refresh token ends after REFRESH_TOKEN_IDLE_TTL without use, and a
# session after REFRESH_TOKEN_ABSOLUTE_TTL whatever happens.
INSTALLED_APPS += ["axes"]
# No AxesMiddleware: the login view answers the lockout itself (429, error shape), and
# the failure that reaches the limit is still a 401. Admin logins are refused by the
# backend during a lockout all the same.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses logins during a lockout
    "accounts.backends.RoleBackend",
]
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "accounts.api.authentication.TokenAuthentication",
    *REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],  # admin users browsing the API
]
ACCESS_TOKEN_TTL = env.int("ACCESS_TOKEN_TTL", default=900)
REFRESH_TOKEN_IDLE_TTL = env.int("REFRESH_TOKEN_IDLE_TTL", default=14 * 24 * 3600)
REFRESH_TOKEN_ABSOLUTE_TTL = env.int("REFRESH_TOKEN_ABSOLUTE_TTL", default=30 * 24 * 3600)
# Token cookies are Secure with the `__Host-` prefix; switch off only for plain-http
# local development (the default follows SECURE_COOKIES, which is off with DEBUG).
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
AUTH_COOKIE_SAMESITE = "Lax"
# Links in emails point at the front end: {FRONTEND_URL}/reset-password?uid=..&token=..
# and {FRONTEND_URL}/verify-email?token=..; required without DEBUG (`check --deploy`).
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:8000" if DEBUG else "")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
EMAIL_VERIFICATION_MAX_AGE = env.int("EMAIL_VERIFICATION_MAX_AGE", default=3 * 24 * 3600)

# Client addresses (`project.client_address`): how many reverse proxies, each appending
# to X-Forwarded-For, stand in front of the app. 0: the header is ignored (a client could
# write anything in it) and the peer's address is the client's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Password guessing (django-axes, `accounts.lockout`; docs/accounts.md): an account is
# locked from one address after LOGIN_FAILURE_LIMIT failures from there, an address for
# every account after LOGIN_ADDRESS_FAILURE_LIMIT failures across accounts, both answering
# 429 for LOGIN_COOLOFF_SECONDS after the last failure, even with the right password. An
# account with LOGIN_SLOWDOWN_AFTER failures from anywhere waits 1 s after its latest
# failure, doubling per failure up to LOGIN_SLOWDOWN_MAX_SECONDS, except from addresses it
# signed in from before. Keep LOGIN_SLOWDOWN_AFTER above LOGIN_FAILURE_LIMIT.
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "project.client_address.client_address"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_COOLOFF_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
LOGIN_SLOWDOWN_AFTER = env.int("LOGIN_SLOWDOWN_AFTER", default=10)
LOGIN_SLOWDOWN_MAX_SECONDS = env.int("LOGIN_SLOWDOWN_MAX_SECONDS", default=60)
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # logins are recorded as sessions (accounts.AuthSession)
AXES_VERBOSE = False

# Throttles (`accounts.api.throttles`, DRF's, counted in the cache = Redis): requests per
# client address and per target account on the endpoints that send email, hand out tokens
# or start work. "N/s|min|hour|day". A throttled request answers 429 with Retry-After.
THROTTLE_RATES = {
    "login_address": env.str("THROTTLE_LOGIN_ADDRESS", default="30/min"),
    "refresh_address": env.str("THROTTLE_REFRESH_ADDRESS", default="60/min"),
    "refresh_account": env.str("THROTTLE_REFRESH_ACCOUNT", default="20/min"),
    "password_reset_address": env.str("THROTTLE_PASSWORD_RESET_ADDRESS", default="10/hour"),
    "password_reset_account": env.str("THROTTLE_PASSWORD_RESET_ACCOUNT", default="3/hour"),
    "verify_email_address": env.str("THROTTLE_VERIFY_EMAIL_ADDRESS", default="10/hour"),
    "verify_email_account": env.str("THROTTLE_VERIFY_EMAIL_ACCOUNT", default="3/hour"),
    "sync_address": env.str("THROTTLE_SYNC_ADDRESS", default="60/min"),
    "sync_account": env.str("THROTTLE_SYNC_ACCOUNT", default="10/min"),
}

# --- Integrations (Moneybird client and sandbox) ------------------------------------
# Plain-http loopback provider URLs (the sandbox, the demo, the tests). Off in
# production: only https to the provider's own host is allowed then.
INTEGRATIONS_ALLOW_LOCAL_URLS = env.bool("INTEGRATIONS_ALLOW_LOCAL_URLS", default=False)
# The Moneybird sandbox that `make run` starts (`manage.py run_sandbox`): its loopback
# port and the one bearer token it accepts (a demo token, not a secret).
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8765)
SANDBOX_TOKEN = env("SANDBOX_TOKEN", default="ledgerbridge-sandbox-demo")
# Push (the outbox, integrations.sync.push). A worker holds an item for the lease; the
# sweep takes up an item whose lease ran out (its worker died), so the lease must outlast
# one attempt (a few requests at the read timeout). After the last attempt an item that
# keeps failing transiently is failed. The queue: empty for Celery's default queue.
INTEGRATIONS_PUSH_LEASE_SECONDS = env.int("INTEGRATIONS_PUSH_LEASE_SECONDS", default=300)
INTEGRATIONS_PUSH_READ_TIMEOUT = env.float("INTEGRATIONS_PUSH_READ_TIMEOUT", default=30.0)
INTEGRATIONS_PUSH_MAX_ATTEMPTS = env.int("INTEGRATIONS_PUSH_MAX_ATTEMPTS", default=15)
INTEGRATIONS_PUSH_QUEUE = env.str("INTEGRATIONS_PUSH_QUEUE", default="")
# Pull (sync runs, integrations.sync.pull). Requests per 5 minutes per connection
# (Moneybird allows 150; raise it only for a sandbox whose rate limit is off), and how
# long a running run may go without a heartbeat before the sweep hands it to a worker.
INTEGRATIONS_REQUEST_BUDGET = env.int("INTEGRATIONS_REQUEST_BUDGET", default=150)
INTEGRATIONS_SYNC_STALE_SECONDS = env.int("INTEGRATIONS_SYNC_STALE_SECONDS", default=180)

# --- Integrations: connection credentials encrypted at rest -------------------------
# Comma-separated Fernet keys (MultiFernet): the first encrypts, every one decrypts.
# Rotate by putting a new key first, running `manage.py rotate_encryption_keys`, then
# removing the old key. Never derived from SECRET_KEY. Required when DEBUG is off; in
# development a generated key is kept in `var/field_encryption_key`.

FIELD_ENCRYPTION_KEYS = field_encryption_keys(env.str("FIELD_ENCRYPTION_KEYS", default=""))
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off: comma-separated Fernet keys "
            "that encrypt the accounting connections' credentials (see docs/settings.md)."
        )
    FIELD_ENCRYPTION_KEYS = [local_field_encryption_key(VAR_DIR)]
