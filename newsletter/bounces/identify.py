"""Which delivery a report is about, from tokens we made and nothing else.

In order: the bounce address the report was sent to (the VERP token of the envelope
recipient); the return path the returned message or the ARF report quotes (the same token,
for feedback loops that write to the plain `bounces@` address); the returned message's signed
unsubscribe link, with its Message-ID to name the issue. An address in the report (Final-
Recipient, Original-Rcpt-To, To) is never used: anyone can write one, and suppressions are
about people. A forged or unknown token names nothing, so such a report changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from newsletter.bounces.reports import Evidence
from newsletter.bounces.verp import read_address
from newsletter.sending.messages import message_id
from newsletter.tokens import unsubscribe_link
from newsroom.errors import InvalidLink
from newsroom.mail_domain import site_domain

_MESSAGE_ID = re.compile(r"<issue(\d{1,10})\.[0-9a-f]{24}@[^>\s]+>")


@dataclass(frozen=True)
class Target:
    """A delivery (by its row id), or a subscriber and, when the message said, the issue."""

    via: str  # "envelope", "return-path", "unsubscribe-link"
    delivery_id: int | None = None
    subscriber_id: int | None = None
    issue_id: int | None = None


def identify(*, recipients: Iterable[str], evidence: Evidence) -> Target | None:
    for recipient in recipients:
        delivery_id = read_address(recipient)
        if delivery_id is not None:
            return Target("envelope", delivery_id=delivery_id)
    for value in evidence.return_paths:
        delivery_id = read_address(parseaddr(value)[1] or value)
        if delivery_id is not None:
            return Target("return-path", delivery_id=delivery_id)
    for link in evidence.unsubscribe_links:
        subscriber_id = _unsubscribe_subscriber(link)
        if subscriber_id is not None:
            issue_id = _issue_of(evidence.message_ids, subscriber_id)
            return Target("unsubscribe-link", subscriber_id=subscriber_id, issue_id=issue_id)
    return None


def _unsubscribe_subscriber(link: str) -> int | None:
    token = urlsplit(link).path.rstrip("/").rpartition("/")[2]
    try:
        return unsubscribe_link.read(token)
    except InvalidLink:
        return None


def _issue_of(message_ids: Iterable[str], subscriber_id: int) -> int | None:
    """The issue whose Message-ID (an HMAC of issue and subscriber) the message carried."""
    domain = site_domain()
    for value in message_ids:
        found = _MESSAGE_ID.search(value)
        if found is None:
            continue
        issue_id = int(found.group(1))
        expected = message_id(issue_id=issue_id, subscriber_id=subscriber_id, domain=domain)
        if found.group(0) == expected:
            return issue_id
    return None
