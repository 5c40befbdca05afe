"""`/healthz`: green when every dependency answers, 503 naming the one that does not."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_all_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_names_unreachable_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "ok", "cache": "error", "broker": "ok"},
    }


def test_healthz_needs_no_auth_and_reveals_nothing(client):
    response = client.get("/healthz")

    text = response.content.decode()
    for secret in ("redis://", "postgres", "sqlite", "version", "django"):
        assert secret not in text.lower()
