"""In a real browser: a running send's counts refresh on the issue's admin page by themselves,
under the admin's Content-Security-Policy (`script-src 'self'`), and the preview iframe loads."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsletter.models import Delivery, Issue
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

    first_two = Delivery.objects.order_by("id").values_list("id", flat=True)[:2]
    Delivery.objects.filter(id__in=list(first_two)).update(
        status=Delivery.Status.SENT, sent_at=timezone.now()
    )

    expect(panel.locator('[data-field="sent"]')).to_have_text("2", timeout=10_000)
    expect(panel.locator('[data-field="queued"]')).to_have_text("1")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _log_in(page: Any, live_server: Any, next_url: str) -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-password-9")
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-password-9")
    page.get_by_role("button", name="Log in").click()


def _horizontal_overflow(page: Any) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize(
    ("status", "path"), [("draft", "{pk}/change/"), ("draft", "add/"), ("sent", "{pk}/change/")]
)
def test_the_issue_editor_fits_a_1366_pixel_screen_without_scrolling_sideways(
    page: Any, live_server: Any, status: str, path: str
) -> None:
    issue = IssueFactory.create(subject="A week of floods and trials", status=status)
    for n in range(3):
        IssueItemFactory.create(
            issue=issue,
            title=f"A long headline about the river, the dam and the court, number {n}",
            url=f"https://news.example.org/2026/11/a-rather-long-story-address-number-{n}/",
            summary="What happened, and why it matters. " * 8,
            image_url=f"https://news.example.org/images/2026/11/photo-{n}.jpg",
        )
    page.set_viewport_size({"width": 1366, "height": 768})
    _log_in(page, live_server, f"/admin/newsletter/issue/{path.format(pk=issue.pk)}")
    page.wait_for_selector("#issue_form")
    assert _horizontal_overflow(page) <= 0
    items = page.locator("#items-group .tabular")
    assert items.evaluate("e => e.scrollWidth - e.clientWidth") <= 0  # nor inside the items
