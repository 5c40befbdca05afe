"""Malformed input is a 4xx in the error shape, never a 500 or Django's HTML pages."""

import pytest
from django_filters import rest_framework as filters
from rest_framework.request import Request
from rest_framework.test import APIClient

from accounts.models import User
from project.api.filters import FilterBackend
from project.api.parsers import JSON_MAX_DEPTH, json_depth

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"


@pytest.fixture
def anonymous():
    return APIClient(raise_request_exception=False)


@pytest.fixture
def admin(role_client):
    client = role_client("administrator")
    client.raise_request_exception = False
    return client


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert set(body) >= {"type", "title", "status", "detail", "errors"}
    return body


# --- JSON nesting and size ---------------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000])
def test_deeply_nested_json_on_the_anonymous_login_is_400(anonymous, body):
    response = anonymous.post(LOGIN, data=body, content_type="application/json")

    body = problem(response, 400)
    assert body["detail"] == f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels."


def test_deeply_nested_json_on_an_authenticated_endpoint_is_400(admin):
    nested = "[" * 10_000 + "]" * 10_000
    response = admin.post(
        "/api/v1/contacts/", data='{"name": ' + nested + "}", content_type="application/json"
    )

    problem(response, 400)


def test_nesting_depth_ignores_brackets_inside_strings():
    assert json_depth('{"a": "[[[[{{{{\\"[[[", "b": [[1], {"c": []}]}') == 4
    assert json_depth("[" * 40) == 40


def test_json_within_the_depth_limit_is_parsed(admin):
    value = "1"
    for _ in range(JSON_MAX_DEPTH - 1):
        value = f"[{value}]"
    response = admin.post(
        "/api/v1/contacts/",
        data='{"company_name": ' + value + "}",
        content_type="application/json",
    )

    assert problem(response, 400)["errors"] == {"company_name": ["Not a valid string."]}


@pytest.mark.parametrize("url", [LOGIN, "/api/v1/contacts/"])
def test_a_10_mb_body_is_413(admin, url):
    body = '{"name": "' + "x" * 10_000_000 + '"}'

    response = admin.post(url, data=body, content_type="application/json")

    assert problem(response, 413)["title"] == "Request Entity Too Large"


def test_a_10_mb_form_body_is_413_too(anonymous):
    response = anonymous.post(
        LOGIN, data="a=" + "x" * 10_000_000, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code in (413, 415)
    problem(response, response.status_code)


# --- datetime filters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2020-01-01T00:00:00+16:00", "2020-01-01T00:00:00-23:59", "0001-01-01T00:00:00+01:00"],
)
def test_a_datetime_filter_out_of_range_is_400_naming_the_parameter(admin, value):
    response = admin.get("/api/v1/contacts/", {"created_after": value})

    body = problem(response, 400)
    assert list(body["errors"]) == ["created_after"]


def test_every_datetime_filter_of_any_filterset_is_bounded(rf):
    class JoinedFilter(filters.FilterSet):
        joined_after = filters.IsoDateTimeFilter(field_name="date_joined", lookup_expr="gte")

        class Meta:
            model = User
            fields = []

    class View:
        filterset_class = JoinedFilter

    request = Request(rf.get("/", {"joined_after": "2020-01-01T00:00:00+16:00"}))
    filterset = FilterBackend().get_filterset(request, User.objects.all(), View())

    assert not filterset.is_valid()
    assert filterset.errors == {
        "joined_after": ["The UTC offset must be between -15:59 and +15:59."]
    }


def test_a_datetime_filter_within_range_still_filters(admin):
    response = admin.get("/api/v1/contacts/", {"created_after": "2020-01-01T00:00:00+15:59"})

    assert response.status_code == 200


# --- paths -------------------------------------------------------------------------------


def test_post_without_the_trailing_slash_is_served_with_its_body(admin):
    response = admin.post("/api/v1/contacts", {"company_name": "Acme BV"})

    assert response.status_code == 201, response.content
    assert response.json()["company_name"] == "Acme BV"


@pytest.mark.parametrize("debug", [False, True])
def test_post_without_the_trailing_slash_is_no_500_nor_redirect_in_any_mode(
    settings, anonymous, debug
):
    settings.DEBUG = debug

    response = anonymous.post(LOGIN.rstrip("/"), {"email": "a@example.com", "password": "x"})

    problem(response, 401)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope/",
        "/api/v1/nope",
        "/api/",
        "/api/v2/contacts/",
        "/api/v1/contacts/not-a-uuid/",
        "/api/v1/contacts/not-a-uuid",
        "/api/v1/invoices/123/send/",
    ],
)
def test_unknown_paths_and_malformed_ids_are_json_404_in_every_mode(settings, admin, path, debug):
    settings.DEBUG = debug

    for method in (admin.get, admin.post):
        assert problem(method(path), 404) == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "Not found.",
            "errors": {},
        }


def test_paths_outside_the_api_keep_django_s_behaviour(client):
    assert client.get("/admin").status_code == 301
