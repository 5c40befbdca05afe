"""A task round trip through a real worker process on the configured broker."""

import io
import os
import time

import pytest
from django.core.management import call_command

from project.celery import app, ping


def test_worker_process_runs_queued_task(celery_worker_process):
    result = ping.delay("hello")

    answer = result.get(timeout=30)

    assert answer["payload"] == "hello"
    assert answer["pid"] == celery_worker_process.pid
    assert answer["pid"] != os.getpid()


def test_celery_is_configured_for_safe_delivery():
    conf = app.conf
    assert conf.task_always_eager is False
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert "beat-heartbeat" in conf.beat_schedule


@pytest.mark.django_db
def test_heartbeat_task_writes_shared_cache(celery_worker_process):
    from django.core.cache import cache

    from project.celery import HEARTBEAT_CACHE_KEY, heartbeat

    cache.delete(HEARTBEAT_CACHE_KEY)
    heartbeat.delay()

    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_CACHE_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None


@pytest.mark.django_db
def test_ping_worker_command_reports_the_worker(celery_worker_process):
    out = io.StringIO()

    call_command("ping_worker", "--timeout", "30", stdout=out)

    assert f"was run by worker pid {celery_worker_process.pid}" in out.getvalue()
