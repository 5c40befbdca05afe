"""Password guessing: after N failures per account or per address, 429 for a cool-down."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import UserFactory
from tests.support.auth import app_login

pytestmark = pytest.mark.django_db

LIMIT = 3
COOL_OFF = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF


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


def test_account_lockout_follows_the_account_across_addresses(anon, user):
    for n in range(LIMIT):
        assert (
            app_login(anon, user.email.upper(), "wrong", REMOTE_ADDR=f"10.0.0.{n}").status_code
            == 401
        )

    assert app_login(anon, user.email, REMOTE_ADDR="10.9.9.9").status_code == 429


def test_address_lockout_covers_every_account_from_it(anon, user):
    other = UserFactory(role="viewer")
    for n in range(LIMIT):
        response = app_login(anon, f"guess{n}@example.com", "wrong", REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 401

    assert app_login(anon, other.email, REMOTE_ADDR="192.0.2.7").status_code == 429
    assert app_login(anon, other.email, REMOTE_ADDR="192.0.2.8").status_code == 200


def test_success_before_the_limit_resets_the_account_count(anon, user):
    for _ in range(LIMIT - 1):
        app_login(anon, user.email, "wrong")
    assert app_login(anon, user.email).status_code == 200

    for _ in range(LIMIT - 1):
        assert app_login(anon, user.email, "wrong").status_code == 401
    assert app_login(anon, user.email).status_code == 200
