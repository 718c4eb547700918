from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture
def empty_cache() -> Iterator[None]:
    """Rate-limit and mail-quota counts live in the (shared) cache: start and end with none."""
    cache.clear()
    yield
    cache.clear()
