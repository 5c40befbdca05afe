"""Age filters are exact around birthdays, including 29 February."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.ages import age_on, birth_date_range
from accounts.tests.factories import UserFactory
from tests.support.auth import api_client_for

pytestmark = pytest.mark.django_db


def at(day: date):
    """Travel to noon of `day` in Amsterdam (the local date the filters use)."""
    return time_machine.travel(f"{day.isoformat()} 12:00 +01:00", tick=False)


def ages_query(client, query):
    response = client.get(reverse("users-list") + query + "&ordering=email")
    assert response.status_code == 200, response.json()
    return [row["email"] for row in response.json()["results"] if row["email"].startswith("b-")]


@pytest.fixture
def people():
    births = {
        "b-30-today@example.com": date(1995, 6, 15),
        "b-29-tomorrow@example.com": date(1995, 6, 16),
        "b-30-yesterday@example.com": date(1995, 6, 14),
        "b-31-today@example.com": date(1994, 6, 15),
        "b-30-31-tomorrow@example.com": date(1994, 6, 16),
        "b-leap@example.com": date(2000, 2, 29),
        "b-feb28@example.com": date(2001, 2, 28),
        "b-mar01@example.com": date(2001, 3, 1),
    }
    for email, born in births.items():
        UserFactory(email=email, date_of_birth=born)
    UserFactory(email="b-unknown@example.com", date_of_birth=None)


def test_age_is_exact_around_a_birthday(people):
    with at(date(2025, 6, 15)):
        client = api_client_for(role="viewer")
        assert ages_query(client, "?age=30") == [
            "b-30-31-tomorrow@example.com", "b-30-today@example.com", "b-30-yesterday@example.com",
        ]  # fmt: skip
        assert ages_query(client, "?age=29") == ["b-29-tomorrow@example.com"]
        assert ages_query(client, "?age__gte=31&age__lte=40") == ["b-31-today@example.com"]
        assert ages_query(client, "?age__lte=29") == [
            "b-29-tomorrow@example.com",
            "b-feb28@example.com",
            "b-leap@example.com",
            "b-mar01@example.com",
        ]
        body = client.get(reverse("users-list") + "?age=29").json()["results"]
        assert [row["age"] for row in body] == [29]


@pytest.mark.parametrize(
    ("today", "leap_age"),
    [
        (date(2025, 2, 28), 24),  # non-leap year: not yet
        (date(2025, 3, 1), 25),  # ...a year older on 1 March
        (date(2028, 2, 28), 27),
        (date(2028, 2, 29), 28),  # leap year: on the day itself
    ],
)
def test_29_february_birthdays(people, today, leap_age):
    with at(today):
        client = api_client_for(role="viewer")
        assert "b-leap@example.com" in ages_query(client, f"?age={leap_age}")
        assert "b-leap@example.com" not in ages_query(client, f"?age={leap_age + 1}")
        assert "b-leap@example.com" not in ages_query(client, f"?age={leap_age - 1}")


def test_neighbours_of_29_february_in_a_leap_year(people):
    with at(date(2028, 2, 29)):
        client = api_client_for(role="viewer")
        assert ages_query(client, "?age=27") == ["b-feb28@example.com"]  # 28 Feb 2001: 27 yesterday
        assert ages_query(client, "?age=26") == ["b-mar01@example.com"]  # 1 Mar 2001: 27 tomorrow


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    offset=st.integers(min_value=0, max_value=120 * 366),
)
def test_filter_range_agrees_with_age(born, offset):
    today = born + timedelta(days=offset)
    age = age_on(born, today)
    earliest, latest = birth_date_range(age_min=age, age_max=age, today=today)
    assert earliest <= born <= latest
    _, latest_one_older = birth_date_range(age_min=age + 1, age_max=None, today=today)
    assert born > latest_one_older
