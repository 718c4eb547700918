"""In a real browser (Debian's chromium via Playwright): the demo article's "Preview" link."""

from __future__ import annotations

from typing import Any

import pytest

from tests.newsletter.factories import IssueFactory, IssueItemFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("isolated_cache"),
]


def test_preview_link_in_the_article_box_opens_the_sample_issue_with_the_signup_form(
    page: Any, live_server: Any
) -> None:
    sample = IssueFactory.create(subject="What our Friday newsletter looks like", is_sample=True)
    IssueItemFactory.create(issue=sample, title="Court hears the dam reporters' case")

    page.goto(live_server.url + "/")
    box = page.locator(".newsletter-box")
    box.get_by_role("link", name="Preview").click()

    page.wait_for_url(live_server.url + "/newsletter/preview/")
    assert page.get_by_role("heading", name="What our Friday newsletter looks like").count() == 1
    assert page.get_by_text("What our Friday newsletter looks like").last.is_visible()
    assert page.get_by_text("Court hears the dam reporters' case").is_visible()
    form = page.locator("form.signup-form")
    assert form.get_by_label("Email address").is_visible()
    assert form.get_by_role("button", name="Sign up").is_visible()
    assert form.get_by_role("checkbox").is_visible()


def test_signing_up_from_the_article_box_in_a_browser_stores_a_pending_subscriber(
    page: Any, live_server: Any
) -> None:
    from newsletter.models import Subscriber

    page.goto(live_server.url + "/")
    box = page.locator(".newsletter-box")
    box.get_by_label("Email address").fill("browser.reader@example.org")
    box.get_by_role("checkbox").check()
    box.get_by_role("button", name="Sign up").click()

    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_source == "/"
