"""The appeal's letter: limited formatting, sanitised by nh3 (the Ammonia sanitiser).

Staff may write plain text (a blank line starts a paragraph) or simple HTML. Only paragraphs,
line breaks, bold and links survive; links keep only `href` with an http, https or mailto
scheme and get `rel="noopener noreferrer"`. Scripts, styles, event handlers, `javascript:`
URLs and every other tag or attribute are removed (the text inside a removed tag stays).
"""

from __future__ import annotations

import re

import nh3

TAGS = {"p", "br", "strong", "b", "a"}
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
_BLANK_LINES = re.compile(r"\n\s*\n")
_STARTS_BLOCK = re.compile(r"<\s*p[\s>]", re.IGNORECASE)


def clean_letter(text: str) -> str:
    """Safe HTML for the letter, from plain text or limited HTML."""
    chunks = [part.strip() for part in _BLANK_LINES.split(text.replace("\r\n", "\n"))]
    source = "".join(
        chunk if _STARTS_BLOCK.match(chunk) else f"<p>{chunk}</p>" for chunk in chunks if chunk
    )
    return nh3.clean(
        source,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
