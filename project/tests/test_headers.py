"""Security headers: a Content-Security-Policy everywhere (the admin and the API docs
still work under it), `Cache-Control: no-store` on the API; the deployment checks."""

import re
import runpy
import secrets
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from project.checks import frontend_url_check
from project.tests.test_settings import BASE_DIR, TEST_FERNET_KEY, clean_env
from tests.support.auth import api_client_for

pytestmark = pytest.mark.django_db
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def allows_script(csp: dict, src: str) -> bool:
    allowed = csp.get("script-src", csp["default-src"])
    return urlsplit(src).netloc == "" and "'self'" in allowed


def assert_same_origin_scripts_only(html: str, csp: dict) -> list[str]:
    sources = []
    for attributes, body in SCRIPT.findall(html):
        src = re.search(r'src="([^"]+)"', attributes)
        assert src, f"a script without src: {body[:80]!r}"
        assert not body.strip(), f"an inline script: {body[:80]!r}"
        assert allows_script(csp, src.group(1)), src.group(1)
        sources.append(src.group(1))
    assert "'unsafe-inline'" not in csp.get("script-src", csp["default-src"])
    return sources


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/auth/csrf/", "/api/v1/nope/", "/admin/"])
def test_every_response_has_a_content_security_policy(client, path):
    response = client.get(path)

    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


def test_the_admin_works_under_the_policy(client):
    client.force_login(UserFactory(role="administrator", superuser=True))

    for path in ("/admin/", "/admin/records/invoice/add/", "/admin/login/"):
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        html = response.content.decode()
        csp = policy(response)
        for src in assert_same_origin_scripts_only(html, csp):
            assert client.get(src).status_code == 200, src
        assert "<style" not in html
        assert "'unsafe-inline'" not in csp.get("style-src", csp["default-src"])
        for href in STYLESHEET.findall(html):
            assert urlsplit(href).netloc == ""


def test_the_api_docs_work_under_their_policy(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    csp = policy(response)
    sources = assert_same_origin_scripts_only(html, csp)
    assert len(sources) == 3  # the bundle, the preset, the start-up script
    for src in sources:
        script = client.get(src)
        assert script.status_code == 200, src
        assert "javascript" in script["Content-Type"]
    start = client.get(sources[-1])
    assert "/api/v1/schema/" in start.content.decode()
    # Swagger UI styles inline and draws icons from data: URLs; nothing more is allowed.
    assert "<style>" in html
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["default-src"] == ["'self'"]
    for href in STYLESHEET.findall(html):
        assert client.get(href).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/v1/contacts/", "/api/v1/nope/"])
def test_authenticated_api_responses_are_not_stored(path):
    response = api_client_for(role="viewer").get(path)

    assert response["Cache-Control"] == "no-store"


def test_login_answers_are_not_stored(client):
    UserFactory(role="viewer", email="v@example.com")

    response = client.post(
        "/api/v1/auth/login/",
        {"email": "v@example.com", "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_pages_outside_the_api_keep_their_caching(client):
    assert "Cache-Control" not in client.get("/no-such-page/")


# --- FRONTEND_URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "FRONTEND_URL is not set"),
        ("http://localhost:8000", "FRONTEND_URL points at this machine: 'http://localhost:8000'"),
        ("https://127.0.0.1", "FRONTEND_URL points at this machine: 'https://127.0.0.1'"),
        ("https://[::1]:8000", "FRONTEND_URL points at this machine: 'https://[::1]:8000'"),
        ("https://app.localhost", "FRONTEND_URL points at this machine: 'https://app.localhost'"),
        ("app.example.com", "FRONTEND_URL is not an absolute http(s) URL: 'app.example.com'"),
    ],
)
def test_deploy_check_requires_a_public_frontend_url(settings, url, problem):
    settings.DEBUG = False
    settings.FRONTEND_URL = url

    assert [(e.id, e.msg) for e in frontend_url_check()] == [("project.E001", problem)]
    with pytest.raises(SystemCheckError, match=r"project\.E001"):
        call_command("check", "--deploy", "--tag", "security")


def test_deploy_check_passes_with_a_public_frontend_url(settings):
    settings.DEBUG = False
    settings.FRONTEND_URL = "https://app.example.com"

    assert frontend_url_check() == []


def manage_check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` with the production-like settings CI uses."""
    environment = clean_env(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEYS=TEST_FERNET_KEY,
        VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="ledgerbridge.example",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example:587",
        **env,
    )
    environment.pop("FRONTEND_URL", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_fails_without_frontend_url_and_passes_with_it(tmp_path):
    unset = manage_check_deploy(tmp_path)
    public = manage_check_deploy(tmp_path, FRONTEND_URL="https://ledgerbridge.example")

    assert unset.returncode != 0
    assert "project.E001" in unset.stderr
    assert "FRONTEND_URL is not set" in unset.stderr
    assert public.returncode == 0, public.stderr


# --- gunicorn ----------------------------------------------------------------------------


def gunicorn_conf(monkeypatch, **env) -> dict:
    for name in ("PORT", "GUNICORN_BIND", "GUNICORN_CONTROL_SOCKET", "VAR_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path("project/gunicorn_conf.py")


def test_each_gunicorn_instance_has_its_own_control_socket_under_var(monkeypatch, tmp_path):
    from gunicorn.config import Config

    first = gunicorn_conf(monkeypatch, VAR_DIR=str(tmp_path), PORT="8000")
    second = gunicorn_conf(monkeypatch, VAR_DIR=str(tmp_path), PORT="8001")
    chosen = gunicorn_conf(monkeypatch, GUNICORN_CONTROL_SOCKET="/run/lb.ctl")

    assert first["control_socket"] == str(tmp_path / "gunicorn-127.0.0.1-8000.ctl")
    assert second["control_socket"] == str(tmp_path / "gunicorn-127.0.0.1-8001.ctl")
    assert chosen["control_socket"] == "/run/lb.ctl"
    assert "control_socket" in Config().settings  # gunicorn's own name for the option
