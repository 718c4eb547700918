"""A sent issue's web page is rendered once and shared through Redis, the configured cache."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.test import Client, override_settings

from newsletter import rendering
from newsletter.models import Issue
from newsletter.selectors import forget_rendered_pages
from tests.newsletter.test_web import sent_issue
from tests.services import need_redis

pytestmark = [pytest.mark.django_db]


def test_a_sent_issue_rendered_by_one_process_is_served_to_another_from_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_url = need_redis()
    prefix = f"test-web-{uuid.uuid4().hex[:12]}"
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": prefix,
    }
    server = redis.Redis.from_url(redis_url)
    with override_settings(CACHES={"default": redis_cache}):
        forget_rendered_pages()
        try:
            issue = sent_issue("Shared through Redis")
            url = f"/newsletter/issues/{issue.web_slug}/"
            assert Client().get(url).status_code == 200
            assert server.keys(f"{prefix}:*:newsletter:web:{issue.pk}:*")  # in Redis itself

            forget_rendered_pages()  # another worker process: nothing in its memory

            def must_not_render(issue: Issue) -> rendering.WebVersion:
                raise AssertionError(f"issue {issue.pk} rendered again")

            monkeypatch.setattr(rendering, "render_web_version", must_not_render)
            response = Client().get(url)
            assert response.status_code == 200
            assert "Lead story of Shared through Redis" in response.content.decode()
        finally:
            forget_rendered_pages()
            for key in server.scan_iter(f"{prefix}:*"):
                server.delete(key)
