"""Bench settings for the records list with DRF's own output (`FastOutputMixin` off):
`bench/compare_output.py` measures it against the project's."""

from bench.settings_records import *  # noqa: F403

ROOT_URLCONF = "bench.urls_records_drf"
