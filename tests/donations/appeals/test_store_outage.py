"""Redis down: the article page is served from the process's copy of the appeal, that moment's
counts are lost (never the page), and the store waits before it tries Redis again."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from donations.appeals.store import reset_store
from tests.donations.appeals.experiments import two_variants

pytestmark = pytest.mark.django_db

NO_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1: every call fails
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_with_redis_down_the_article_and_its_experiment_still_answer(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    two_variants()
    with override_settings(CACHES=NO_REDIS):
        reset_store()
        pages = [client.get("/") for _ in range(3)]
        reset_store()
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert all('action="/support/checkout/"' in page.content.decode() for page in pages)
    # One failed call pauses the store: the next views do not wait on Redis again.
    assert caplog.text.count("appeal store unavailable") == 1
