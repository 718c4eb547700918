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


def test_an_issue_page_in_a_browser_asks_no_other_host_for_anything_and_sets_no_cookie(
    page: Any, live_server: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from newsletter.models import Issue

    issue = IssueFactory.create(
        subject="Nothing tracks you here",
        status=Issue.Status.SENT,
        sent_at=timezone.now() - timedelta(days=1),
        web_slug="2026-11-20",
    )
    IssueItemFactory.create(
        issue=issue, title="A story with a pixel", image_url="https://tracker.example.net/p.gif"
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    blocked: list[str] = []  # stopped inside the browser by the page's CSP: never sent
    page.on(
        "requestfailed",
        lambda request: blocked.append(request.url) if request.failure == "csp" else None,
    )

    for path in ("/newsletter/issues/2026-11-20/", "/newsletter/preview/", "/newsletter/archive/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
    assert page.get_by_text("Nothing tracks you here").first.is_visible()

    assert any(url.endswith("/newsletter/archive/") for url in requested)
    elsewhere = [url for url in requested if not url.startswith(live_server.url)]
    assert elsewhere == ["https://tracker.example.net/p.gif"] * 2  # the pixel, on two pages...
    assert blocked == elsewhere  # ...and both times the CSP stopped it before it left
    assert page.context.cookies() == []


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_web_version_has_a_heading_for_each_section_and_story(
    page: Any, live_server: Any, screen: str
) -> None:
    from newsletter.models import IssueItem
    from tests.accessibility import SCREENS, axe_violations, describe

    issue = IssueFactory.create(sent=True, subject="Floods, courts and a poet")
    stories = {
        IssueItem.Section.NEWS: ["The dam holds", "Court sits late"],
        IssueItem.Section.OPINION: ["Why rivers matter"],
    }
    for section, titles in stories.items():
        for title in titles:
            IssueItemFactory.create(issue=issue, section=section, title=title)
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{live_server.url}/newsletter/issues/{issue.web_slug}/")

    article = page.locator("article.newsletter-issue")
    assert article.get_by_role("heading", level=1, name="Floods, courts and a poet").count() == 1
    for section, titles in stories.items():
        assert article.get_by_role("heading", level=2, name=section.label).is_visible()
        for title in titles:
            heading = article.get_by_role("heading", level=3, name=title)
            assert heading.is_visible()
            assert heading.get_by_role("link", name=title).count() == 1
    outline = [
        line.strip() for line in article.aria_snapshot().splitlines() if "heading" in line
    ]  # the order a screen reader's heading list gives
    assert [line.split('"')[1] for line in outline] == [
        "Floods, courts and a poet", "News", "The dam holds", "Court sits late", "Opinion",
        "Why rivers matter",
    ]  # fmt: skip
    found = axe_violations(page)
    assert found == [], describe(found)
