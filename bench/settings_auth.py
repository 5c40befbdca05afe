"""Bench settings for `bench_auth`: the bench settings plus the auth-off reference view."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_auth"
