"""Reads for the newsletter's web pages: which issue to show, and its cached rendering."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from newsletter.models import Issue

CACHE_TIMEOUT = 7 * 24 * 3600  # a sent issue never changes; the key moves if the row does


@dataclass(frozen=True)
class IssuePage:
    """What a web page shows of an issue: nothing personal, the same for every reader."""

    issue_id: int
    subject: str
    preheader: str
    html: str
    sent_at: object
    version: str

    @property
    def etag(self) -> str:
        return f'W/"issue-{self.issue_id}-{self.version}"'


def sent_issues() -> QuerySet[Issue]:
    return Issue.objects.filter(status=Issue.Status.SENT, web_slug__isnull=False).order_by(
        "-sent_at", "-pk"
    )


def latest_sent_issue() -> Issue | None:
    return sent_issues().first()


def sample_issue() -> Issue | None:
    return Issue.objects.filter(is_sample=True).order_by("-updated_at", "-pk").first()


def issue_page(issue: Issue) -> IssuePage:
    """The issue's web version, rendered once per (issue, updated_at) and then read from cache."""
    version = format(int(issue.updated_at.timestamp() * 1_000_000), "x")
    key = f"newsletter:web:{issue.pk}:{version}"
    cached = cache.get(key)
    if cached is None:
        from newsletter.rendering import render_web_version  # the email's own rendering

        web = render_web_version(issue)
        cached = {"subject": web.subject, "preheader": web.preheader, "html": web.html}
        cache.set(key, cached, CACHE_TIMEOUT)
    return IssuePage(
        issue_id=issue.pk,
        subject=cached["subject"],
        preheader=cached["preheader"],
        html=cached["html"],
        sent_at=issue.sent_at,
        version=version,
    )
