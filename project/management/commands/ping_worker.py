"""Queue a task through the app and wait for a Celery worker to answer it."""

import os

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.core.management.base import BaseCommand, CommandError

from project.celery import ping


class Command(BaseCommand):
    help = "Queue project.ping on the broker and print which worker process ran it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout, **options):
        result = ping.delay(f"from pid {os.getpid()}")
        try:
            answer = result.get(timeout=timeout)
        except CeleryTimeoutError as exc:
            raise CommandError(f"no worker answered within {timeout:.0f}s") from exc
        self.stdout.write(f"task {result.id} was run by worker pid {answer['pid']}")
