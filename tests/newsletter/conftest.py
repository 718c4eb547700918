"""Fixtures shared by the newsletter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.newsletter.bounce_samples import bounce_listener  # noqa: F401  (a fixture)


@pytest.fixture
def isolated_cache() -> Iterator[None]:
    """A fresh local-memory cache and page memos: rate limits and pages never leak between tests."""
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ):
        from django.core.cache import cache

        from newsletter.selectors import forget_rendered_pages

        cache.clear()
        forget_rendered_pages()
        yield
        forget_rendered_pages()
