"""Reads for the newsletter's web pages: which issue to show, and its cached rendering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from threading import Lock
from time import monotonic

from django.core.cache import cache
from django.db.models import QuerySet

from newsletter.models import Issue

CACHE_TIMEOUT = 7 * 24 * 3600  # a sent issue never changes; the key moves if the row does
PREVIEW_MEMO_SECONDS = 15.0  # how long a process reuses its answer to "which issue is the preview"


@dataclass(frozen=True)
class IssuePage:
    """What a web page shows of an issue: nothing personal, the same for every reader."""

    issue_id: int
    subject: str
    preheader: str
    html: str
    sent_at: datetime | None
    version: str
    out: bool = True  # its emails are out: the content is final (cacheable, with an ETag)

    @property
    def etag(self) -> str | None:
        return f'W/"issue-{self.issue_id}-{self.version}"' if self.out else None


# An issue's web version is public once its emails go out: while sending (the emails' "View in
# your browser" links must work) and after. The archive, feed and preview list sent issues only.
WEB_VISIBLE_STATUSES = (Issue.Status.SENDING, Issue.Status.SENT)


def web_visible_issue(slug: str) -> Issue | None:
    return Issue.objects.filter(web_slug=slug, status__in=WEB_VISIBLE_STATUSES).first()


def sent_issues() -> QuerySet[Issue]:
    return Issue.objects.filter(status=Issue.Status.SENT, web_slug__isnull=False).order_by(
        "-sent_at", "-pk"
    )


def latest_sent_issue() -> Issue | None:
    return sent_issues().first()


def sample_issue() -> Issue | None:
    return Issue.objects.filter(is_sample=True).order_by("-updated_at", "-pk").first()


def issue_page(issue: Issue) -> IssuePage:
    """The issue's web version; once its emails are out, rendered once and then read from cache.

    Two levels: the default cache (Redis when configured) shares a rendering between processes
    and survives restarts; a small per-process memo in front saves the round trip. Both are
    keyed by id and `updated_at`. An issue still being edited (a draft, the sample) is rendered
    on every call: its items can change without touching the issue row.
    """
    version = format(int(issue.updated_at.timestamp() * 1_000_000), "x")
    if issue.status not in WEB_VISIBLE_STATUSES:
        return _page_from(issue.pk, _render(issue), issue.sent_at, version, out=False)
    return _issue_page(issue.pk, version, issue.sent_at)


def _render(issue: Issue) -> dict[str, str]:
    from newsletter.rendering import render_web_version  # the email's own rendering

    web = render_web_version(issue)
    return {"subject": web.subject, "preheader": web.preheader, "html": web.html}


def _page_from(
    issue_id: int,
    rendered: dict[str, str],
    sent_at: datetime | None,
    version: str,
    *,
    out: bool = True,
) -> IssuePage:
    return IssuePage(
        issue_id=issue_id,
        subject=rendered["subject"],
        preheader=rendered["preheader"],
        html=rendered["html"],
        sent_at=sent_at,
        version=version,
        out=out,
    )


@lru_cache(maxsize=64)
def _issue_page(issue_id: int, version: str, sent_at: datetime | None) -> IssuePage:
    key = f"newsletter:web:{issue_id}:{version}"
    cached = cache.get(key)
    if cached is None:
        cached = _render(Issue.objects.get(pk=issue_id))
        cache.set(key, cached, CACHE_TIMEOUT)
    return _page_from(issue_id, cached, sent_at, version)


_preview_memo: tuple[float, IssuePage | None] | None = None
_preview_lock = Lock()


def preview_page() -> IssuePage | None:
    """The preview: the latest sent issue, else the sample, else None (a friendly page).

    The answer is reused for a few seconds per process, so the busiest page of the newsletter
    costs no database query; a newly sent issue shows within `PREVIEW_MEMO_SECONDS`.
    """
    global _preview_memo
    now = monotonic()
    memo = _preview_memo
    if memo is not None and now - memo[0] < PREVIEW_MEMO_SECONDS:
        return memo[1]
    issue = latest_sent_issue() or sample_issue()
    page = issue_page(issue) if issue else None
    with _preview_lock:
        _preview_memo = (now, page)
    return page


def forget_rendered_pages() -> None:
    """Drop this process's memos (tests; the shared cache is keyed so it never goes stale)."""
    global _preview_memo
    with _preview_lock:
        _preview_memo = None
    _issue_page.cache_clear()
