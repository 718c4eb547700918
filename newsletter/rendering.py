"""An issue to email HTML (CSS inlined by css-inline) and plain text, rendered once per send.

`render_issue` runs the templates twice (with and without the donation ask) and inlines the
CSS once per variant. What differs per recipient is only the unsubscribe link, left in the
rendered text as a placeholder: `RenderedIssue.personalise` is two `str.replace` calls, no
template rendering in the send loop.

`render_web_version` is the same body for the public web page: nothing personal in it (no
unsubscribe link, no "view in browser"), the donation ask shown to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import css_inline
from django.conf import settings
from django.template.loader import render_to_string

from newsletter.models import Issue, IssueItem

# Stands for the recipient's unsubscribe URL until `personalise` puts the real one in.
UNSUBSCRIBE_PLACEHOLDER = "%%NR-UNSUBSCRIBE-URL%%"
SECTION_ORDER = [
    IssueItem.Section.NEWS,
    IssueItem.Section.FEATURES,
    IssueItem.Section.ANALYSIS,
    IssueItem.Section.OPINION,
]
# Invisible characters after the preheader keep clients from filling the preview line with
# the start of the body.
_PREHEADER_PADDING = range(40)


@dataclass(frozen=True)
class Section:
    label: str
    items: list[IssueItem]


@dataclass(frozen=True)
class RenderedIssue:
    """One issue, rendered; `personalise` makes one recipient's HTML and text from it."""

    subject: str
    preheader: str
    html_with_ask: str
    text_with_ask: str
    html_without_ask: str
    text_without_ask: str

    def personalise(
        self, *, unsubscribe_url: str, show_ask: bool, escape: tuple[str, str] = ("", "")
    ) -> tuple[str, str]:
        """One recipient's HTML and text. `escape` (old, new) is replaced first: a provider's
        template syntax that occurs in the issue itself, made literal."""
        html, text = (
            (self.html_with_ask, self.text_with_ask)
            if show_ask
            else (self.html_without_ask, self.text_without_ask)
        )
        if escape[0]:
            html, text = html.replace(*escape), text.replace(*escape)
        return (
            html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
            text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
        )


@dataclass(frozen=True)
class WebVersion:
    subject: str
    preheader: str
    html: str  # the body as an HTML fragment, CSS inlined
    text: str


def issue_web_url(issue: Issue) -> str:
    """The public web version's absolute URL; empty until sending has given it an address."""
    if not issue.web_slug:
        return ""
    return settings.SITE_URL + issue.get_absolute_url()


def issue_sections(issue: Issue) -> list[Section]:
    """The issue's items grouped in the fixed section order, each group in the editor's order."""
    items = list(issue.items.order_by("position", "id"))
    labels = dict(IssueItem.Section.choices)
    sections = []
    for section in SECTION_ORDER:
        grouped = [item for item in items if item.section == section]
        if grouped:
            sections.append(Section(label=str(labels[section]), items=grouped))
    return sections


def _context(issue: Issue) -> dict[str, Any]:
    return {
        "issue": issue,
        "sections": issue_sections(issue),
        "intro_paragraphs": [p.strip() for p in issue.intro.split("\n\n") if p.strip()],
        "site_name": settings.SITE_NAME,
        "support_url": f"{settings.SITE_URL}/support/",
        "postal_address": settings.NEWSROOM_POSTAL_ADDRESS,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "preheader_padding": _PREHEADER_PADDING,
        "css": render_to_string("newsletter/email/issue.css"),
    }


def _inline(html: str) -> str:
    return css_inline.inline(html, keep_at_rules=True, load_remote_stylesheets=False)


def render_issue(issue: Issue) -> RenderedIssue:
    context = _context(issue)
    context["web_url"] = issue_web_url(issue)
    variants = {}
    for show_ask in (True, False):
        context["show_ask"] = show_ask
        variants[show_ask] = (
            _inline(render_to_string("newsletter/email/issue.html", context)),
            render_to_string("newsletter/email/issue.txt", context),
        )
    return RenderedIssue(
        subject=issue.subject,
        preheader=issue.preheader,
        html_with_ask=variants[True][0],
        text_with_ask=variants[True][1],
        html_without_ask=variants[False][0],
        text_without_ask=variants[False][1],
    )


def render_web_version(issue: Issue) -> WebVersion:
    context = _context(issue)
    context.update(show_ask=True, web_version=True, web_url="", unsubscribe_url="")
    body = render_to_string("newsletter/email/_body.html", context)
    return WebVersion(
        subject=issue.subject,
        preheader=issue.preheader,
        html=css_inline.inline_fragment(body, context["css"], load_remote_stylesheets=False),
        text=render_to_string("newsletter/email/issue.txt", context),
    )
