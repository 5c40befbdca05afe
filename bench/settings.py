"""Benchmark settings: the project's, plus a per-request query counter and bench URLs."""

from project.settings import *  # noqa: F403
from project.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
LOGGING = {"version": 1, "disable_existing_loggers": False}  # no per-request log noise
