"""Redis down: the article page is served from the process's copy of the appeal, that moment's
counts are lost (never the page), and the store waits before it tries Redis again."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from donations.appeals.store import reset_store, store, today
from tests.donations.appeals.experiments import two_variants
from tests.redis_server import PrivateRedis

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


def test_a_redis_restart_costs_the_counting_page_neither_a_pause_nor_its_script(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store's own per-thread connection dies with the server; the next call reconnects
    at once (no pause, nothing logged), and the script a fresh Redis lacks is loaded again."""
    redis = PrivateRedis().start()
    private = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                           "LOCATION": redis.url}}  # fmt: skip
    try:
        with override_settings(CACHES=private):
            reset_store()
            day = today()
            before = store().version_and_count(7, "impressions", day)
            redis.kill()
            redis.start()  # empty: no version, no counters, no scripts
            after = store().version_and_count(7, "impressions", day)
            version = store().version()
            taken = store().take()
            reset_store()
    finally:
        redis.stop()
    assert before is not None
    assert after == version  # a fresh Redis, a fresh token...
    assert after is not None
    assert after != before  # ...that no process's copy matches
    assert [batch.counts["impressions"] for batch in taken] == [1]  # the count after restart
    assert "appeal store unavailable" not in caplog.text
