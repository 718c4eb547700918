from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from newsletter.feed_import import FeedError, feed_candidates
from newsletter.models import IssueItem

FEED = Path(__file__).resolve().parent.parent / "fixtures" / "newsletter_feed.xml"


def test_feed_entries_become_candidates_with_plain_summaries_images_and_sections() -> None:
    with override_settings(NEWSLETTER_FEED_URL=str(FEED)):
        candidates = feed_candidates()

    assert [c.title for c in candidates] == [
        "Floods hit the harbour district",
        "Why the budget fails the poorest",
        "Where the aid money went",
        "A poet at the market",
    ]
    floods, budget, aid, poet = candidates
    assert floods.summary == "Hundreds of families left their homes overnight."
    assert floods.image_url == "https://news.example.org/media/floods.jpg"
    assert aid.image_url == "https://news.example.org/media/aid.png"
    assert [c.section for c in candidates] == [
        IssueItem.Section.NEWS,
        IssueItem.Section.OPINION,
        IssueItem.Section.ANALYSIS,
        IssueItem.Section.FEATURES,
    ]
    assert budget.url == "https://news.example.org/2026/11/budget-opinion/"
    assert poet.image_url == ""


def test_no_feed_configured_or_a_missing_file_is_a_clear_error() -> None:
    with override_settings(NEWSLETTER_FEED_URL=""), pytest.raises(FeedError, match="No feed"):
        feed_candidates()
    with pytest.raises(FeedError, match="could not be read"):
        feed_candidates(source=str(FEED.with_name("missing.xml")))
