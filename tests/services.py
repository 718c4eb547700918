"""Which real services this run has, and how a test that needs one reacts to its absence.

In CI (`CI=true`) a missing service fails the test; elsewhere the test skips, saying why.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

CHROMIUM = "/usr/bin/chromium"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(available: bool, why: str) -> None:
    if available:
        return
    if in_ci():
        pytest.fail(f"CI runs against real services, but {why}")
    pytest.skip(why)


def need_redis() -> str:
    need(bool(settings.REDIS_URL), "REDIS_URL is not set (no real Redis broker)")
    return settings.REDIS_URL


def need_postgresql() -> None:
    need(connection.vendor == "postgresql", "DATABASE_URL is not PostgreSQL")


def need_chromium() -> str:
    need(shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM
