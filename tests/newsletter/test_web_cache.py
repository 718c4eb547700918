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


def test_a_sent_issue_cannot_be_edited_or_deleted_so_its_cached_page_never_goes_stale(
    admin_client: Client,
) -> None:
    issue = sent_issue("Final words")
    item = issue.items.get()
    before = admin_client.get(f"/newsletter/issues/{issue.web_slug}/")
    change = f"/admin/newsletter/issue/{issue.pk}/change/"
    form = admin_client.get(change).content.decode()
    assert 'name="subject"' not in form  # shown read-only, nothing to submit

    edit = {
        "subject": "Rewritten after the send",
        "preheader": "",
        "intro": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "1",
        "items-0-id": str(item.pk),
        "items-0-issue": str(issue.pk),
        "items-0-position": "0",
        "items-0-section": item.section,
        "items-0-title": "A rewritten story",
        "items-0-url": item.url,
    }
    assert admin_client.post(change, edit).status_code == 403
    delete = f"/admin/newsletter/issue/{issue.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403

    issue.refresh_from_db()
    item.refresh_from_db()
    assert (issue.subject, item.title) == ("Final words", "Lead story of Final words")
    after = admin_client.get(f"/newsletter/issues/{issue.web_slug}/")
    assert after["ETag"] == before["ETag"]
