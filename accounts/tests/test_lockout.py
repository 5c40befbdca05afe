"""Password guessing: locked per account and address together, per address across accounts
at a higher limit, and slowed down per account except from addresses it signed in from."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuthSession
from accounts.tests.factories import UserFactory
from tests.support.auth import app_login

pytestmark = pytest.mark.django_db

LIMIT = 3
COOL_OFF = timedelta(minutes=10)


ADDRESS_LIMIT = 8
SLOWDOWN_AFTER = 5


@pytest.fixture(autouse=True)
def _lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = ADDRESS_LIMIT
    settings.LOGIN_SLOWDOWN_AFTER = SLOWDOWN_AFTER
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 4


def test_account_is_locked_after_n_failures_even_for_the_right_password(anon, user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        failures = [app_login(anon, user.email, "wrong").status_code for _ in range(LIMIT)]
        locked = app_login(anon, user.email)  # the right password

        assert failures == [401] * LIMIT
        assert locked.status_code == 429
        assert locked["Retry-After"] == "600"
        assert locked.json() == {
            "type": "about:blank",
            "title": "Too Many Requests",
            "status": 429,
            "detail": "Too many failed login attempts. Try again in 600 seconds.",
            "errors": {},
        }
        traveller.shift(COOL_OFF - timedelta(seconds=1))
        assert app_login(anon, user.email).status_code == 429
        traveller.shift(timedelta(seconds=2))
        assert app_login(anon, user.email).status_code == 200


def test_failures_from_one_address_do_not_lock_the_account_from_another(anon, user):
    for _ in range(LIMIT + 5):  # on and on, through the lockout
        app_login(anon, user.email.upper(), "wrong", REMOTE_ADDR="10.0.0.1")

    assert app_login(anon, user.email, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert app_login(anon, user.email, REMOTE_ADDR="10.9.9.9").status_code == 200


def test_random_emails_from_one_address_lock_no_one_below_the_address_limit(anon, user):
    other = UserFactory(role="viewer")
    for n in range(ADDRESS_LIMIT - 1):
        response = app_login(anon, f"guess{n}@example.com", "wrong", REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 401

    assert app_login(anon, other.email, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_password_spraying_locks_the_address_for_every_account(anon, user):
    other = UserFactory(role="viewer")
    for n in range(ADDRESS_LIMIT):
        response = app_login(anon, f"guess{n}@example.com", "wrong", REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 401

    locked = app_login(anon, other.email, REMOTE_ADDR="192.0.2.7")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "600"
    assert app_login(anon, other.email, REMOTE_ADDR="192.0.2.8").status_code == 200


def test_behind_the_proxy_failures_of_one_client_lock_out_no_one_else(anon, user, settings):
    """The README's attack: every request comes from the proxy's address."""
    settings.TRUSTED_PROXY_COUNT = 1
    superuser = UserFactory(role="administrator", superuser=True)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(5):
        response = app_login(
            anon, f"random{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy
        )
        assert response.status_code == 401
    for _ in range(LIMIT):
        app_login(anon, user.email, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)

    for account in (superuser, user):
        response = app_login(anon, account.email, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
        assert response.status_code == 200, response.content
    assert AuthSession.objects.filter(user=user).get().ip == "198.51.100.4"


def test_a_forged_forwarded_for_is_ignored_without_a_trusted_proxy(anon, user):
    for n in range(LIMIT):
        app_login(anon, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    locked = app_login(anon, user.email, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert locked.status_code == 429
    assert app_login(anon, user.email, REMOTE_ADDR="192.0.2.30").status_code == 200
    assert AuthSession.objects.get(user=user).ip == "192.0.2.30"


def test_failures_from_many_addresses_slow_the_account_down(anon, user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for n in range(SLOWDOWN_AFTER):
            app_login(anon, user.email, "wrong", REMOTE_ADDR=f"10.1.0.{n}")

        slowed = app_login(anon, user.email, REMOTE_ADDR="10.2.0.1")  # the right password
        assert slowed.status_code == 429
        assert slowed["Retry-After"] == "1"
        assert slowed.json()["detail"] == "Too many failed login attempts. Try again in 1 second."
        traveller.shift(timedelta(seconds=1))
        assert app_login(anon, user.email, "wrong", REMOTE_ADDR="10.2.0.2").status_code == 401
        assert app_login(anon, user.email, REMOTE_ADDR="10.2.0.3")["Retry-After"] == "2"
        for n in range(3):
            traveller.shift(timedelta(seconds=4))
            assert (
                app_login(anon, user.email, "wrong", REMOTE_ADDR=f"10.3.0.{n}").status_code == 401
            )
        assert app_login(anon, user.email, REMOTE_ADDR="10.2.0.3")["Retry-After"] == "4"  # at most

        traveller.shift(timedelta(seconds=4))
        assert app_login(anon, user.email, REMOTE_ADDR="10.2.0.3").status_code == 200


def test_the_slowdown_spares_addresses_the_owner_signed_in_from(anon, user):
    with time_machine.travel(timezone.now(), tick=False):
        assert app_login(anon, user.email, REMOTE_ADDR="192.0.2.44").status_code == 200
        for n in range(SLOWDOWN_AFTER + 3):
            app_login(anon, user.email, "wrong", REMOTE_ADDR=f"10.1.0.{n}")

        assert app_login(anon, user.email, REMOTE_ADDR="10.2.0.1").status_code == 429
        assert app_login(anon, user.email, REMOTE_ADDR="192.0.2.44").status_code == 200


def test_success_before_the_limit_resets_the_account_count(anon, user):
    for _ in range(LIMIT - 1):
        app_login(anon, user.email, "wrong")
    assert app_login(anon, user.email).status_code == 200

    for _ in range(LIMIT - 1):
        assert app_login(anon, user.email, "wrong").status_code == 401
    assert app_login(anon, user.email).status_code == 200
