"""Whatever arrives as Authorization header or cookies, the answer is never a 500."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from tests.support.auth import login

pytestmark = pytest.mark.django_db


def as_wsgi(text: str) -> str:
    """A server hands headers over as bytes decoded as latin-1; UTF-8 bytes arrive so."""
    return text.encode("utf-8").decode("latin-1")


header_values = st.one_of(
    st.text(max_size=300).map(as_wsgi),
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),  # what WSGI hands over
    st.builds(
        lambda scheme, rest: as_wsgi(f"{scheme} {rest}"),
        st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token"]),
        st.text(max_size=100),
    ),
)
cookie_names = st.sampled_from(
    ["lb_access", "lb_refresh", "__Host-lb_access", "__Host-lb_refresh", "csrftoken", "sessionid"]
)
cookie_headers = st.one_of(
    st.text(max_size=300).map(as_wsgi),
    st.lists(st.tuples(cookie_names, st.text(max_size=80)), max_size=4).map(
        lambda pairs: as_wsgi("; ".join(f"{name}={value}" for name, value in pairs))
    ),
)
requests = st.sampled_from(
    [
        ("get", "users-me"),
        ("patch", "users-me"),
        ("get", "users-list"),
        ("post", "auth-refresh"),
        ("post", "auth-logout"),
        ("post", "auth-login"),
        ("get", "auth-sessions-list"),
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    authorization=st.none() | header_values, cookies=st.none() | cookie_headers, request=requests
)
def test_arbitrary_credentials_never_give_a_500(authorization, cookies, request):
    method, name = request
    extra = {}
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    if cookies is not None:
        extra["HTTP_COOKIE"] = cookies
    client = APIClient(raise_request_exception=False)

    response = getattr(client, method)(reverse(name), {}, format="json", **extra)

    assert response.status_code in {400, 401, 403}, (response.status_code, response.content)
    assert response.json()["status"] == response.status_code
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "cookie", ["sessionid=0000000\x00", "sessionid=abcdefgh\x00ij", "sessionid=ABC-def-123"]
)
@pytest.mark.parametrize(("method", "name"), [("get", "users-me"), ("post", "auth-login")])
def test_a_session_cookie_that_cannot_be_a_session_key_is_ignored(cookie, method, name):
    """Found by the property test above: a NUL byte reached PostgreSQL (a 500)."""
    client = APIClient(raise_request_exception=False)

    response = getattr(client, method)(reverse(name), {}, format="json", HTTP_COOKIE=cookie)

    assert response.status_code in {400, 401, 403}, (response.status_code, response.content)
    assert response.json()["status"] == response.status_code


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mutation=st.sampled_from(["prefix", "suffix", "upper", "truncate"]),
    # Pure whitespace is no mangling: "Bearer  <token>" and a trailing space are the same
    # credentials (RFC 9110 allows 1*SP after the scheme and trims surrounding OWS).
    junk=st.text(min_size=1, max_size=20).filter(str.strip),
)
def test_mangled_real_tokens_are_refused(mutation, junk):
    tokens = login(UserFactory(role="viewer"))
    token = tokens.access_token
    mangled = {
        "prefix": junk + token,
        "suffix": token + junk,
        "upper": token.upper() if token.upper() != token else token + junk,
        "truncate": token[: len(token) // 2],
    }[mutation]
    client = APIClient(raise_request_exception=False)

    response = client.get(reverse("users-me"), HTTP_AUTHORIZATION=f"Bearer {mangled}")

    assert response.status_code == 401
