from __future__ import annotations

import pytest
from django.test import override_settings

from newsletter.models import Issue, IssueItem
from newsletter.rendering import (
    UNSUBSCRIBE_PLACEHOLDER,
    render_issue,
    render_web_version,
)

pytestmark = pytest.mark.django_db


def make_issue(**fields: object) -> Issue:
    issue = Issue.objects.create(
        subject="The week in Freetown",
        preheader="Floods, a budget and a poet",
        intro="Dear readers,\n\nA busy week.",
        **fields,
    )
    # Created out of order on purpose: sections render News, Features, Analysis, Opinion.
    for position, (section, title) in enumerate(
        [
            (IssueItem.Section.OPINION, "Why the budget fails"),
            (IssueItem.Section.NEWS, "Floods hit the harbour"),
            (IssueItem.Section.ANALYSIS, "Where the money went"),
            (IssueItem.Section.FEATURES, "A poet at the market"),
            (IssueItem.Section.NEWS, "Council votes <no>"),
        ]
    ):
        IssueItem.objects.create(
            issue=issue,
            section=section,
            title=title,
            url=f"https://news.example.org/{position}/",
            summary=f"Summary {position}",
            position=position,
        )
    return issue


@override_settings(
    SITE_URL="https://news.example.org",
    SITE_NAME="The Ledger",
    NEWSROOM_POSTAL_ADDRESS="PO Box 9, Freetown",
)
def test_the_email_has_sections_in_order_inlined_css_ask_address_and_unsubscribe() -> None:
    issue = make_issue(web_slug="2026-11-27")
    rendered = render_issue(issue)
    html, text = rendered.personalise(
        unsubscribe_url="https://news.example.org/newsletter/unsubscribe/abc:def/",
        show_ask=True,
    )

    positions = [html.index(label) for label in (">News<", ">Features<", ">Analysis<", ">Opinion<")]
    assert positions == sorted(positions)
    assert html.index("Floods hit the harbour") < html.index("Council votes &lt;no&gt;")
    assert 'style="' in html
    assert "<table" in html
    assert "Floods, a budget and a poet" in html  # the preheader, as hidden text
    assert 'href="https://news.example.org/newsletter/issues/2026-11-27/"' in html
    assert "A message from The Ledger" in html
    assert 'href="https://news.example.org/support/"' in html
    assert "PO Box 9, Freetown" in html
    assert 'href="https://news.example.org/newsletter/unsubscribe/abc:def/"' in html
    assert UNSUBSCRIBE_PLACEHOLDER not in html + text

    for needle in (
        "== NEWS ==",
        "Council votes <no>",
        "A message from The Ledger",
        "https://news.example.org/support/",
        "PO Box 9, Freetown",
        "Unsubscribe with one click: https://news.example.org/newsletter/unsubscribe/abc:def/",
    ):
        assert needle in text
    assert text.index("== NEWS ==") < text.index("== OPINION ==")


def test_the_donation_ask_is_left_out_for_recurring_donors() -> None:
    rendered = render_issue(make_issue())
    html, text = rendered.personalise(unsubscribe_url="https://x.test/u/", show_ask=False)
    assert "A message from" not in html
    assert "A message from" not in text
    assert "https://x.test/u/" in html


def test_an_issue_without_a_web_address_yet_has_no_view_in_browser_link() -> None:
    html, _ = render_issue(make_issue()).personalise(unsubscribe_url="u", show_ask=True)
    assert "View in your browser" not in html


@override_settings(SITE_URL="https://news.example.org", SITE_NAME="The Ledger")
def test_the_web_version_is_the_same_body_with_nothing_personal() -> None:
    issue = make_issue(web_slug="2026-11-27")
    web = render_web_version(issue)

    assert web.subject == "The week in Freetown"
    assert web.preheader == "Floods, a budget and a poet"
    assert "<html" not in web.html
    assert 'style="' in web.html
    assert web.html.index("Floods hit the harbour") < web.html.index("A poet at the market")
    assert "A message from The Ledger" in web.html
    assert "A message from The Ledger" in web.text
    for personal in ("nsubscribe", "View in your browser", UNSUBSCRIBE_PLACEHOLDER):
        assert personal not in web.html
        assert personal not in web.text
