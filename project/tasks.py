"""Celery task conventions the apps share (this module defines no task of its own).

`email_task(name)`: the options of every task that sends one email. Sending is retried
when the mail server cannot be reached or refuses for now (`OSError`, `SMTPException`),
with exponential backoff, at most `EMAIL_MAX_RETRIES` times; the result is never stored
(nobody waits for it). The task itself loads its rows by id and calls one function.

`send_on_commit(task, ...)`: queue a task when the current transaction commits. A broker
that cannot be reached then is logged, never raised: the write has committed, and
turning it into a 500 would tell the client it failed (what must still be done is found
again by the periodic sweeps; an email is lost). `broker_check()` is for endpoints that
only exist to queue work (a password reset): they call it before writing anything, and
the broker being down is a 503 with Retry-After (`project.api.errors`).
"""

import logging
import smtplib

import redis
from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from project.celery import app as celery_app

logger = logging.getLogger(__name__)

BROKER_ERRORS = (OperationalError, redis.exceptions.RedisError, OSError)
BROKER_CHECK_TIMEOUT = 2

EMAIL_RETRYABLE = (OSError, smtplib.SMTPException)
EMAIL_MAX_RETRIES = 5


def email_task(name: str, **options):
    """`@email_task("app.send_x_email")` over a function that sends one email."""
    return shared_task(
        name=name,
        autoretry_for=EMAIL_RETRYABLE,
        retry_backoff=True,
        max_retries=EMAIL_MAX_RETRIES,
        ignore_result=True,
        **options,
    )


def send_now(task, args=(), kwargs=None, **options) -> bool:
    """Send `task` (a task, or a registered task's name); False (logged) when the broker
    cannot take it."""
    name = task if isinstance(task, str) else task.name
    try:
        if isinstance(task, str):
            celery_app.send_task(task, args, kwargs, **options)
        else:
            task.apply_async(args, kwargs, **options)
    except BROKER_ERRORS:
        logger.exception("broker unavailable: %s was not queued", name)
        return False
    return True


def send_on_commit(task, args=(), kwargs=None, **options) -> None:
    """Queue `task` after the current transaction commits (`send_now`: a broker that is
    down is logged, never raised into the committed request)."""
    transaction.on_commit(lambda: send_now(task, args, kwargs, **options))


def broker_check() -> None:
    """Raise kombu's OperationalError unless the broker answers (within two seconds)."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_CHECK_TIMEOUT
        )
