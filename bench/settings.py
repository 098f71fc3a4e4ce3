"""Benchmark settings: the app's own settings plus a bare one-model DRF endpoint to compare against."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
