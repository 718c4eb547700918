"""The newsletter on the web: preview, web version, archive, feed, privacy of drafts, caching."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import feedparser
import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from newsletter.models import Issue
from newsletter.rendering import render_issue
from newsletter.tokens import issue_preview_url, unsubscribe_link, unsubscribe_url
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]

UNSENT = [
    Issue.Status.DRAFT,
    Issue.Status.SCHEDULED,
    Issue.Status.PAUSED,
    Issue.Status.CANCELLED,
]


def sent_issue(subject: str, days_ago: int = 0, **extra: Any) -> Issue:
    sent_at = timezone.now() - timedelta(days=days_ago)
    issue = IssueFactory.create(
        sent=True,
        subject=subject,
        sent_at=sent_at,
        web_slug=sent_at.date().isoformat(),
        **extra,
    )
    IssueItemFactory.create(issue=issue, title=f"Lead story of {subject}")
    return issue


def test_preview_shows_the_latest_sent_issue_with_the_signup_form(client: Client) -> None:
    sent_issue("Older issue", days_ago=7)
    sent_issue("Newest issue", days_ago=0)
    IssueFactory.create(subject="Sample issue", is_sample=True)
    response = client.get("/newsletter/preview/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Newest issue" in html
    assert "Lead story of Newest issue" in html
    assert "Older issue" not in html
    assert 'action="/newsletter/"' in html
    assert 'name="consent"' in html


def test_preview_falls_back_to_the_sample_before_any_send(client: Client) -> None:
    sample = IssueFactory.create(subject="What you would get", is_sample=True)
    IssueItemFactory.create(issue=sample, title="A sample story")
    IssueFactory.create(subject="Unmarked draft")
    html = client.get("/newsletter/preview/").content.decode()
    assert "What you would get" in html
    assert "A sample story" in html
    assert "Unmarked draft" not in html


def test_preview_without_any_issue_is_a_friendly_page_with_the_form(client: Client) -> None:
    IssueFactory.create(subject="Private draft")
    response = client.get("/newsletter/preview/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Our first issue is on its way" in html
    assert "Private draft" not in html
    assert 'name="email"' in html


def test_a_sent_issue_has_a_readable_web_address(client: Client) -> None:
    issue = sent_issue("The dam trial week")
    response = client.get(f"/newsletter/issues/{issue.web_slug}/")
    assert response.status_code == 200
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(issue.web_slug))
    html = response.content.decode()
    assert "The dam trial week" in html
    assert f"A message from {'The Independent Ledger'}" in html  # the ask, shown to everyone
    assert 'action="/newsletter/"' in html


@pytest.mark.parametrize("status", UNSENT)
def test_unsent_issues_are_not_public_anywhere(client: Client, status: str) -> None:
    issue = IssueFactory.create(subject="Secret plans", status=status, web_slug="2026-12-04")
    sent_issue("Public issue")
    assert client.get("/newsletter/issues/2026-12-04/").status_code == 404
    assert "Secret plans" not in client.get("/newsletter/archive/").content.decode()
    feed = feedparser.parse(client.get("/newsletter/archive/feed/").content)
    assert [entry.title for entry in feed.entries] == ["Public issue"]
    assert Issue.objects.get(pk=issue.pk).status == status


def test_signed_staff_link_shows_a_draft_until_it_expires(client: Client) -> None:
    draft = IssueFactory.create(subject="Next week's draft")
    url = issue_preview_url(draft.pk).removeprefix("http://testserver")
    response = client.get(url)
    assert response.status_code == 200
    assert "Next week&#x27;s draft" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "strict-origin"  # its links never carry the token out
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "OTk" + token[2:],
        lambda token: unsubscribe_link.make(1),
    ],
)
def test_altered_staff_links_are_refused(client: Client, mangle: Any) -> None:
    draft = IssueFactory.create(subject="Next week's draft")
    token = issue_preview_url(draft.pk).rstrip("/").rsplit("/", 1)[1]
    response = client.get(f"/newsletter/issues/draft/{mangle(token)}/")
    assert response.status_code == 404
    assert "Next week" not in response.content.decode()


def test_only_staff_who_may_see_issues_can_make_a_preview_link(client: Client) -> None:
    draft = IssueFactory.create()
    assert client.get(f"/newsletter/issues/{draft.pk}/share/").status_code == 302
    client.force_login(User.objects.create_user("fundraiser", password="x", is_staff=True))
    assert client.get(f"/newsletter/issues/{draft.pk}/share/").status_code == 403
    editor = User.objects.create_user("editor", password="x", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="view_issue"))
    client.force_login(editor)
    response = client.get(f"/newsletter/issues/{draft.pk}/share/")
    assert response.status_code == 200
    assert "/newsletter/issues/draft/" in response.content.decode()


def test_staff_find_the_share_link_on_the_issue_admin_page_and_a_colleague_opens_it(
    admin_client: Client,
) -> None:
    draft = IssueFactory.create(subject="Friday's draft")
    page = admin_client.get(f"/admin/newsletter/issue/{draft.pk}/change/").content.decode()
    share = re.search(r'href="([^"]+)">Share a preview link<', page)
    assert share is not None
    shared = admin_client.get(share.group(1)).content.decode()
    link = re.search(r'href="http://testserver(/newsletter/issues/draft/[^"]+)"', shared)
    assert link is not None
    colleague = Client()  # not logged in: the signed link is the credential
    response = colleague.get(link.group(1))
    assert response.status_code == 200
    assert "Friday&#x27;s draft" in response.content.decode()


def test_the_web_version_has_nothing_personal_in_it(client: Client) -> None:
    subscriber = SubscriberFactory.create(email="known.reader@example.org")
    issue = sent_issue("Personal check")
    token = unsubscribe_link.make(subscriber.pk)
    email_html, _text = render_issue(issue).personalise(
        unsubscribe_url=unsubscribe_url(subscriber.pk), show_ask=False
    )
    assert token in email_html  # the email itself is personal...
    html = client.get(f"/newsletter/issues/{issue.web_slug}/").content.decode()
    for secret in (token, "known.reader", "unsubscribe/"):
        assert secret not in html  # ...its web version is not
    assert "%%" not in html  # no unfilled personalisation placeholder either


def test_archive_lists_sent_issues_newest_first_with_date_subject_preheader(
    client: Client,
) -> None:
    sent_issue("First", days_ago=14, preheader="The first preheader")
    sent_issue("Second", days_ago=7, preheader="The second preheader")
    html = client.get("/newsletter/archive/").content.decode()
    assert html.index("Second") < html.index("First")
    assert "The first preheader" in html
    assert (timezone.now() - timedelta(days=14)).strftime("%B") in html


def test_archive_is_paginated(client: Client) -> None:
    for n in range(23):
        sent_issue(f"Issue number {n:02d}", days_ago=n)
    first = client.get("/newsletter/archive/").content.decode()
    second = client.get("/newsletter/archive/?page=2").content.decode()
    assert "Issue number 00" in first
    assert "Issue number 19" in first
    assert "Issue number 20" not in first
    assert "Issue number 22" in second
    assert "Page 2 of 2" in second
    assert client.get("/newsletter/archive/?page=banana").status_code == 200


def test_atom_feed_parses_and_lists_only_sent_issues(client: Client) -> None:
    sent_issue("Week one", days_ago=7, preheader="One")
    sent_issue("Week two", days_ago=0, preheader="Two")
    IssueFactory.create(subject="Draft issue")
    response = client.get("/newsletter/archive/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [entry.title for entry in feed.entries] == ["Week two", "Week one"]
    assert feed.entries[0].link.startswith("http://testserver/newsletter/issues/")
    assert feed.entries[0].summary == "Two"


def test_sent_issue_page_is_rendered_once_then_served_from_cache(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsletter import rendering

    calls: list[int] = []
    real = rendering.render_web_version

    def counting(issue: Issue) -> Any:
        calls.append(issue.pk)
        return real(issue)

    monkeypatch.setattr(rendering, "render_web_version", counting)
    issue = sent_issue("Cached")
    for _ in range(3):
        assert client.get(f"/newsletter/issues/{issue.web_slug}/").status_code == 200
    assert client.get("/newsletter/preview/").status_code == 200
    assert calls == [issue.pk]


def test_etag_and_cache_control_with_304_on_if_none_match(client: Client) -> None:
    issue = sent_issue("Cacheable")
    url = f"/newsletter/issues/{issue.web_slug}/"
    response = client.get(url)
    etag = response["ETag"]
    assert etag
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert "max-age=300" in again["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH='W/"something-else"').status_code == 200


def test_pages_set_no_cookie_and_load_nothing_from_other_hosts() -> None:
    issue = sent_issue("Privacy")
    IssueItemFactory.create(issue=issue, image_url="https://tracker.example.net/pixel.gif")
    client = Client()
    for url in (
        f"/newsletter/issues/{issue.web_slug}/",
        "/newsletter/preview/",
        "/newsletter/archive/",
        "/newsletter/archive/feed/",
    ):
        response = client.get(url)
        assert not response.cookies, url
        if response["Content-Type"].startswith("text/html"):
            html = response.content.decode()
            for match in re.finditer(r'<(?:script|link|iframe)[^>]+(?:src|href)="([^"]+)"', html):
                assert match.group(1).startswith("/"), (url, match.group(1))
    # Images in an issue may only come from this site and the newsroom's own: CSP enforces it.
    csp = Client().get(f"/newsletter/issues/{issue.web_slug}/")["Content-Security-Policy"]
    img_src = next(part for part in csp.split(";") if part.strip().startswith("img-src"))
    assert "https:" not in img_src.split()
    assert "tracker.example.net" not in img_src
    assert "script-src 'self'" in csp


def test_pages_that_change_on_a_send_are_cached_only_briefly(client: Client) -> None:
    sent_issue("Brief")
    for url in ("/newsletter/preview/", "/newsletter/archive/", "/newsletter/archive/feed/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "max-age=60" in cache_control
    for url in ("/newsletter/archive/", "/newsletter/archive/feed/"):  # no form: anyone may keep
        assert "public" in client.get(url)["Cache-Control"]


@pytest.mark.parametrize("path", ["/newsletter/preview/", "/newsletter/issues/{slug}/"])
def test_pages_with_the_signup_form_are_the_same_for_every_reader_and_public(path: str) -> None:
    issue = sent_issue("Form beside it")
    pages = [Client().get(path.format(slug=issue.web_slug)) for _ in range(2)]
    assert not pages[0].cookies  # the form carries no CSRF token (newsroom.same_origin)...
    assert pages[0].content == pages[1].content
    cache_control = {part.strip() for part in pages[0]["Cache-Control"].split(",")}
    assert "public" in cache_control  # ...so a shared cache may serve it to every reader
    assert "private" not in cache_control


def test_a_revalidated_issue_page_has_a_signup_form_that_works() -> None:
    issue = sent_issue("Revalidated")
    url = f"/newsletter/issues/{issue.web_slug}/"
    reader = Client(enforce_csrf_checks=True)
    first = reader.get(url)
    etag = first["ETag"]
    reader.cookies["csrftoken"] = "n" * 32  # any cookie the browser holds changes nothing
    again = reader.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    signup = {"email": "reader@example.org", "consent": "on", "source": url}
    posted = reader.post("/newsletter/", signup, HTTP_ORIGIN="http://testserver")
    assert posted.status_code == 200
    assert "Check your inbox" in posted.content.decode()


def test_an_issue_being_sent_has_its_web_version_but_is_not_listed_yet(client: Client) -> None:
    IssueFactory.create(subject="Going out now", status=Issue.Status.SENDING, web_slug="2026-12-04")
    response = client.get("/newsletter/issues/2026-12-04/")
    assert response.status_code == 200  # the emails already out link here
    assert "Going out now" in response.content.decode()
    assert "Going out now" not in client.get("/newsletter/archive/").content.decode()
    assert not feedparser.parse(client.get("/newsletter/archive/feed/").content).entries
    assert "Going out now" not in client.get("/newsletter/preview/").content.decode()


def test_the_sample_is_rendered_fresh_and_has_no_etag(client: Client) -> None:
    from newsletter.selectors import forget_rendered_pages

    sample = IssueFactory.create(subject="Sample", is_sample=True)
    IssueItemFactory.create(issue=sample, title="First version of the story")
    first = client.get("/newsletter/preview/")
    assert "ETag" not in first
    IssueItemFactory.create(issue=sample, title="A story added later")  # the issue row unchanged
    forget_rendered_pages()  # the preview choice is reused for a few seconds per process
    assert "A story added later" in client.get("/newsletter/preview/").content.decode()
