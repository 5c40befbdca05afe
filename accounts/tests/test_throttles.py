"""Throttles on login, refresh, password reset, verify-email resend and the sync trigger:
429 with Retry-After in the error shape, per client address and per target account, at
the configured rates (the real defaults, not the tests' throttles-off)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from integrations.tests.factories import ConnectionFactory
from project import settings as project_settings
from tests.support.auth import api_client_for, app_login

pytestmark = pytest.mark.django_db

RATES = project_settings.THROTTLE_RATES
RESET = reverse("auth-password-reset")
RESEND = reverse("auth-verify-email-resend")
REFRESH = reverse("auth-refresh")


def limit(scope: str) -> int:
    return int(RATES[scope].split("/")[0])


@pytest.fixture(autouse=True)
def _real_throttles(settings):
    """The configured rates, no counts left over from other tests or runs, and the clock
    stopped at the start of an hour (the counts are per fixed window)."""
    settings.THROTTLE_RATES = dict(RATES)
    cache.delete_pattern("throttle:*")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with time_machine.travel(hour, tick=False):
        yield
    cache.delete_pattern("throttle:*")


def assert_throttled(response):
    assert response.status_code == 429, response.content
    wait = int(response["Retry-After"])
    assert 0 < wait <= 3600
    assert response.json() == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": f"Request was throttled. Expected available in {wait} second"
        + ("s." if wait > 1 else "."),
        "errors": {},
    }


def reset(client, email, **extra):
    return client.post(RESET, {"email": email}, format="json", **extra)


def test_password_reset_per_account(anon):
    statuses = [
        reset(anon, "Target@example.com").status_code
        for _ in range(limit("password_reset_account"))
    ]

    assert statuses == [202] * limit("password_reset_account")
    assert_throttled(reset(anon, "target@EXAMPLE.com"))
    assert reset(anon, "someone-else@example.com").status_code == 202


def test_password_reset_per_address_ignores_a_forged_forwarded_for(anon):
    """No trusted proxy: X-Forwarded-For is the client's own word and changes nothing."""
    allowed = limit("password_reset_address")
    statuses = [
        reset(anon, f"n{n}@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(allowed + 2)
    ]

    assert statuses == [202] * allowed + [429] * 2
    assert_throttled(reset(anon, "fresh@example.com", HTTP_X_FORWARDED_FOR="198.51.100.9"))
    assert reset(anon, "fresh@example.com", REMOTE_ADDR="192.0.2.99").status_code == 202


def test_password_reset_behind_a_trusted_proxy_counts_each_client(anon, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    allowed = limit("password_reset_address")
    for n in range(allowed):
        forwarded = f"6.6.6.6, 198.51.100.{n % 3 + 1}, 198.51.100.1"  # forged entries first
        assert (
            reset(anon, f"a{n}@example.com", HTTP_X_FORWARDED_FOR=forwarded, **proxy).status_code
            == 202
        )

    assert_throttled(reset(anon, "a@example.com", HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy))
    assert (
        reset(anon, "b@example.com", HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy).status_code
        == 202
    )


def test_verify_email_resend_per_account_and_per_address():
    per_account = limit("verify_email_account")
    per_address = limit("verify_email_address")
    callers = [
        api_client_for(UserFactory(role="viewer")) for _ in range(per_address // per_account + 1)
    ]
    first = callers[0]
    statuses = [first.post(RESEND).status_code for _ in range(per_account)]

    assert statuses == [202] * per_account
    assert_throttled(first.post(RESEND))
    used = per_account + 1  # every request counts for the address, refused ones too
    for caller in callers[1:]:
        for _ in range(per_account):
            if used == per_address:
                break
            assert caller.post(RESEND).status_code == 202
            used += 1
    assert_throttled(callers[-1].post(RESEND))
    other_address = api_client_for(UserFactory(role="viewer"), REMOTE_ADDR="192.0.2.50")
    assert other_address.post(RESEND).status_code == 202


def test_refresh_per_account(user):
    client = APIClient()
    token = app_login(client, user.email, REMOTE_ADDR="192.0.2.60").json()["refresh_token"]
    for _ in range(limit("refresh_account")):
        response = client.post(REFRESH, {"refresh_token": token}, format="json")
        assert response.status_code == 200, response.content
        token = response.json()["refresh_token"]

    assert_throttled(
        client.post(REFRESH, {"refresh_token": token}, format="json", REMOTE_ADDR="192.0.2.61")
    )


def test_refresh_per_address(anon):
    allowed = limit("refresh_address")
    statuses = {
        anon.post(REFRESH, {"refresh_token": f"bogus-{n}"}, format="json").status_code
        for n in range(allowed)
    }

    assert statuses == {401}
    assert_throttled(anon.post(REFRESH, {"refresh_token": "bogus"}, format="json"))


def test_login_per_address(anon, user):
    allowed = limit("login_address")
    statuses = {
        anon.post(reverse("auth-login"), {"client": "app"}, format="json").status_code
        for _ in range(allowed)
    }

    assert statuses == {400}
    assert_throttled(app_login(anon, user.email))
    assert app_login(anon, user.email, REMOTE_ADDR="192.0.2.70").status_code == 200


def test_sync_trigger_per_account():
    connection = ConnectionFactory()
    employee = api_client_for(UserFactory(role="employee"))
    url = reverse("connections-sync", args=[connection.pk])
    statuses = [employee.post(url).status_code for _ in range(limit("sync_account"))]

    assert statuses[0] == 202
    assert set(statuses[1:]) == {409}  # the run already queued
    assert_throttled(employee.post(url))
    colleague = api_client_for(UserFactory(role="employee"))
    assert colleague.post(url).status_code == 409
