"""Candidate stories for an issue, from the site's RSS/Atom feed (NEWSLETTER_FEED_URL).

Editors pick and order; nothing here writes. The feed is fetched with a timeout and parsed by
feedparser; summaries lose their HTML, and a section is guessed from the entry's categories.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import requests
from django.conf import settings
from django.utils.html import strip_tags
from django.utils.text import Truncator

from newsletter.models import IssueItem
from newsroom.errors import ApplicationError

logger = logging.getLogger(__name__)

FETCH_TIMEOUT = 10
SECTION_WORDS = {
    "opinion": IssueItem.Section.OPINION,
    "comment": IssueItem.Section.OPINION,
    "analysis": IssueItem.Section.ANALYSIS,
    "explainer": IssueItem.Section.ANALYSIS,
    "feature": IssueItem.Section.FEATURES,
    "features": IssueItem.Section.FEATURES,
}


class FeedError(ApplicationError):
    """The feed could not be fetched or read (the message is safe to show staff)."""


@dataclass(frozen=True)
class Candidate:
    title: str
    url: str
    summary: str
    image_url: str
    section: str


def _fetch(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        try:
            response = requests.get(source, timeout=FETCH_TIMEOUT)
            response.raise_for_status()
        except requests.RequestException as error:
            raise FeedError(f"The feed could not be fetched ({type(error).__name__}).") from error
        return response.content
    try:
        return Path(source).read_bytes()
    except OSError as error:
        raise FeedError("The feed file could not be read.") from error


def _image(entry: Any) -> str:
    for media in [*entry.get("media_content", []), *entry.get("media_thumbnail", [])]:
        if media.get("url", "").startswith("https://"):
            return str(media["url"])
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href", ""))
    return ""


def _section(entry: Any) -> str:
    for tag in entry.get("tags", []):
        word = str(tag.get("term", "")).strip().lower()
        if word in SECTION_WORDS:
            return SECTION_WORDS[word]
    return IssueItem.Section.NEWS


def feed_candidates(*, source: str | None = None, limit: int = 30) -> list[Candidate]:
    """The feed's newest entries with a title and an http(s) link, as issue item candidates."""
    source = source if source is not None else settings.NEWSLETTER_FEED_URL
    if not source:
        raise FeedError("No feed is configured (NEWSLETTER_FEED_URL).")
    parsed = feedparser.parse(_fetch(source))
    if parsed.get("bozo") and not parsed.entries:
        raise FeedError("The feed could not be parsed.")
    candidates = []
    for entry in parsed.entries[:limit]:
        url = str(entry.get("link", ""))
        title = strip_tags(str(entry.get("title", ""))).strip()
        if not title or not url.startswith(("http://", "https://")):
            continue
        summary = strip_tags(str(entry.get("summary", ""))).strip()
        candidates.append(
            Candidate(
                title=title[:300],
                url=url[:500],
                summary=Truncator(summary).chars(400),
                image_url=_image(entry)[:500],
                section=_section(entry),
            )
        )
    logger.info("newsletter feed read", extra={"candidates": len(candidates)})
    return candidates
