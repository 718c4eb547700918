"""Fixtures shared by the newsletter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings


@pytest.fixture
def isolated_cache() -> Iterator[None]:
    """A fresh local-memory cache, so rate limits and cached pages never leak between tests."""
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ):
        from django.core.cache import cache

        cache.clear()
        yield
