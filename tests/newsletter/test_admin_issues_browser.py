"""In a real browser: a running send's counts refresh on the issue's admin page by themselves,
under the admin's Content-Security-Policy (`script-src 'self'`), and the preview iframe loads."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsletter.models import Delivery, Issue
from newsletter.sending import claims
from newsletter.services.sends import deliveries_create
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("isolated_cache"),
]


def test_progress_counts_update_without_reloading_the_admin_page(
    page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-password-9")
    SubscriberFactory.create_batch(3)
    issue = IssueFactory.create(status=Issue.Status.SENDING, send_started_at=timezone.now())
    IssueItemFactory.create(issue=issue, title="Floods hit the harbour")
    deliveries_create(issue_id=issue.pk, now=timezone.now())
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    page.goto(f"{live_server.url}/admin/login/?next=/admin/newsletter/issue/{issue.pk}/change/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-password-9")
    page.get_by_role("button", name="Log in").click()

    panel = page.locator("#issue-progress")
    expect(panel.locator('[data-field="queued"]')).to_have_text("3")
    expect(panel.locator('[data-field="sent"]')).to_have_text("0")
    preview = page.frame_locator("iframe.issue-preview")
    expect(preview.get_by_text("Floods hit the harbour")).to_be_visible()

    # A lane claims the batch, two messages go out and are marked; its heartbeat counts them.
    lease = claims.claim(issue_id=issue.pk, lease_seconds=30, now=timezone.now())
    assert lease is not None
    first_two = Delivery.objects.order_by("id").values_list("id", flat=True)[:2]
    claims.mark_sent(delivery_ids=list(first_two), issue_id=issue.pk, now=timezone.now())
    claims.renew(lease, lease_seconds=30, now=timezone.now())

    expect(panel.locator('[data-field="sent"]')).to_have_text("2", timeout=10_000)
    expect(panel.locator('[data-field="queued"]')).to_have_text("1")
    assert not [e for e in errors if "Content Security Policy" in e], errors
