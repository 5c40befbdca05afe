"""System checks of the deployment settings (`manage.py check --deploy`)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@checks.register(checks.Tags.security, deploy=True)
def frontend_url_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Emails link to FRONTEND_URL: in production it must be set, absolute, and not local."""
    url = settings.FRONTEND_URL or ""
    parts = urlsplit(url)
    if settings.DEBUG:
        return []
    if not url:
        problem = "FRONTEND_URL is not set"
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problem = f"FRONTEND_URL is not an absolute http(s) URL: {url!r}"
    elif _is_local(parts.hostname):
        problem = f"FRONTEND_URL points at this machine: {url!r}"
    else:
        return []
    return [
        checks.Error(
            problem,
            hint="Set FRONTEND_URL to the public address of the web app (https://...): "
            "password reset, invitation and verification emails link to it.",
            id="project.E001",
        )
    ]
