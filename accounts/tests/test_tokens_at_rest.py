"""Tokens at rest: only digests, never the plaintext, in Redis or in the database."""

import pytest
from django.apps import apps
from django.urls import reverse
from django_redis import get_redis_connection

from accounts.tokens import token_digest
from tests.support.auth import app_login

pytestmark = pytest.mark.django_db


def redis_contents() -> list[bytes]:
    """Every key name and every string value in the cache's Redis database."""
    redis = get_redis_connection("default")
    blobs = []
    for key in redis.scan_iter(count=1000):
        blobs.append(key)
        if redis.type(key) == b"string":
            blobs.append(redis.get(key) or b"")
    return blobs


def database_contents() -> list[str]:
    """Every value of every row of every model, as text."""
    values = []
    for model in apps.get_models():
        for row in model.objects.values_list():
            values.extend(str(value) for value in row)
    return values


def test_no_plaintext_token_in_redis_or_the_database(anon, user):
    login = app_login(anon, user.email).json()
    rotated = anon.post(
        reverse("auth-refresh"), {"refresh_token": login["refresh_token"]}, format="json"
    ).json()
    tokens = [
        login["access_token"],
        login["refresh_token"],
        rotated["access_token"],
        rotated["refresh_token"],
    ]

    in_redis = redis_contents()
    in_database = database_contents()

    assert token_digest(rotated["access_token"]).encode() in b" ".join(
        in_redis
    )  # looked in the right place
    assert token_digest(rotated["refresh_token"]) in in_database
    for token in tokens:
        assert not any(token.encode() in blob for blob in in_redis)
        assert not any(token in value for value in in_database)
