"""How `project/settings.py` turns the environment into values.

Settings stay in one file (`settings.py` names every setting and its variable); the few
steps that are more than reading a variable live here, as plain functions of their
inputs: development keys kept under `var/` (so every local process signs and decrypts
alike), the database options per engine, the mailer from `EMAIL_URL`, and kombu's
spelling of a unix-socket Redis URL.
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


def local_secret_key(var_dir: Path) -> str:
    """A development SECRET_KEY kept in `var/` so every local process signs alike."""
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def local_field_encryption_key(var_dir: Path) -> str:
    """A development Fernet key kept in `var/` so every local process decrypts alike."""
    path = var_dir / "field_encryption_key"
    if not path.exists():
        # Created atomically: processes starting together must not end up with two keys.
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        draft.write_text(Fernet.generate_key().decode())
        draft.chmod(0o600)
        try:
            path.hardlink_to(draft)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def field_encryption_keys(raw: str) -> list[str]:
    """The comma-separated Fernet keys of FIELD_ENCRYPTION_KEYS, each checked."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key number {number} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; see docs/settings.md for how to generate one)."
            ) from None
    return keys


def configure_database(database: dict, env: environ.Env, *, test_name: Path) -> dict:
    """`database` (from DATABASE_URL) with the options its engine needs here."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        if env.bool("DATABASE_POOL", default=False):
            # psycopg's pool: for ASGI servers, where every thread would otherwise keep
            # its own persistent connection and exhaust the server's connection slots.
            database["OPTIONS"]["pool"] = {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int("DATABASE_POOL_MAX", default=10),
                "timeout": 10,
            }
            database["CONN_MAX_AGE"] = 0
        else:
            # Persistent connections (one per sync gunicorn worker): a trial on this
            # hardware measured ~4.5x the throughput of opening one per request.
            database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
            database["CONN_HEALTH_CHECKS"] = True
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (web workers, the Celery worker) share the file: WAL lets
        # readers run beside one writer, IMMEDIATE avoids lock-upgrade deadlocks.
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # A file, not :memory:, so a worker process in the tests sees the test data.
        database["TEST"] = {"NAME": str(test_name)}
    return database


def mailer(email_url: str, *, base_dir: Path, var_dir: Path, subfolder: str = "") -> dict:
    """The default mailer (Django's MAILERS entry) for EMAIL_URL in django-environ's form
    (smtp+tls://user:pass@host:587, consolemail://, filemail:///absolute/dir or
    filemail://relative/dir). Files go to `subfolder` of the folder when one is given."""
    config = environ.Env.email_url_config(email_url)
    options = {
        "host": config.get("EMAIL_HOST"),
        "port": config.get("EMAIL_PORT"),
        "username": config.get("EMAIL_HOST_USER"),
        "password": config.get("EMAIL_HOST_PASSWORD"),
        "use_tls": config.get("EMAIL_USE_TLS"),
        "use_ssl": config.get("EMAIL_USE_SSL"),
        "timeout": config.get("EMAIL_TIMEOUT") or 10,
    }
    if config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
        # django-environ reads `filemail://var/mail` as host "var" + path "mail": rebuild it.
        parsed = urlsplit(email_url)
        folder = base_dir / ((parsed.netloc + parsed.path) or str(var_dir / "mail"))
        options = {"file_path": str(folder / subfolder if subfolder else folder)}
    elif config["EMAIL_BACKEND"] != "django.core.mail.backends.smtp.EmailBackend":
        options = {}
    return {
        "BACKEND": config["EMAIL_BACKEND"],
        "OPTIONS": {k: v for k, v in options.items() if v not in (None, "")},
    }


def celery_url(url: str) -> str:
    """kombu spells a unix-socket Redis URL `redis+socket://`."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url
