"""Celery task conventions the apps share (this module defines no task of its own).

`email_task(name)`: the options of every task that sends one email. Sending is retried
when the mail server cannot be reached or refuses for now (`OSError`, `SMTPException`),
with exponential backoff, at most `EMAIL_MAX_RETRIES` times; the result is never stored
(nobody waits for it). The task itself loads its rows by id and calls one function.
"""

import smtplib

from celery import shared_task

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
