"""The Celery application: JSON only, late acks, time limits, beat schedule in code.

Broker and result backend come from settings (`REDIS_URL`, or the embedded Valkey
socket). Tasks are discovered in each app's `tasks.py`. Nothing runs eagerly.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("ledgerbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, kept in code. Later issues add their entries here.
app.conf.beat_schedule = {
    "beat-heartbeat": {
        "task": "project.heartbeat",
        "schedule": crontab(),  # every minute
    },
    "integrations-push-sweep": {
        "task": "integrations.push_sweep",
        "schedule": crontab(),  # every minute: outbox items due or abandoned
    },
    "integrations-sync-tick": {
        "task": "integrations.sync_tick",
        # every minute: scheduled pulls due by each connection's sync_interval_minutes
        # (django-celery-beat does not support Django 6.1), and stale runs taken up
        "schedule": crontab(),
    },
}

HEARTBEAT_CACHE_KEY = "celery:heartbeat"


@app.task(name="project.ping")
def ping(payload: str = "ping") -> dict:
    """Round trip check: answers from the worker process that ran it."""
    return {"payload": payload, "pid": os.getpid()}


@app.task(name="project.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat's proof of life: the time of the last tick, readable by any process."""
    from django.core.cache import cache
    from django.utils import timezone

    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)
