"""The client address: X-Forwarded-For only through the configured trusted proxies."""

import pytest
from django.test import RequestFactory

from project.client_address import client_address


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", None, "192.0.2.1"),
        (0, "192.0.2.1", "198.51.100.7", "192.0.2.1"),  # forged by the client: ignored
        (1, "10.0.0.1", "198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # left of it: the client's
        (1, "10.0.0.1", "6.6.6.6,198.51.100.7 ", "198.51.100.7"),
        (2, "10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (2, "10.0.0.2", "198.51.100.7", "10.0.0.2"),  # fewer entries than proxies: the peer
        (1, "10.0.0.1", None, "10.0.0.1"),  # not through the proxy
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", "2001:db8::7", "2001:db8::7"),
        (0, "::1", None, "::1"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)

    assert client_address(request) == expected
