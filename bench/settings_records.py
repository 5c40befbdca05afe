"""Bench settings for `bench_records`: the bench settings plus the bare invoice list view."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_records"
