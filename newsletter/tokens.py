"""Signed links for subscribers and staff: confirm (expiring), unsubscribe (lasting, as RFC
8058 needs: the link in every issue ever sent must still work) and a draft's preview.

Each is a `SignedLink` with its own purpose; the links mailed before the opaque format (signed
with `django.core.signing` under the same salts) are still read.
"""

from __future__ import annotations

from django.conf import settings

from newsroom.signed_links import SignedLink, legacy_reader, token_url


def _hex_id(value: object) -> int:
    return int(str(value), 16)


def _int_id(value: object) -> int:
    return int(str(value))


def _confirm_max_age() -> int:
    return int(settings.NEWSLETTER_CONFIRM_MAX_AGE)


def _preview_max_age() -> int:
    return int(settings.NEWSLETTER_ISSUE_PREVIEW_MAX_AGE)


confirm_link = SignedLink(
    "newsletter.confirm",
    max_age=_confirm_max_age,
    legacy=legacy_reader(salt="newsletter.confirm", max_age=_confirm_max_age, decode=_int_id),
)
unsubscribe_link = SignedLink(
    "newsletter.unsubscribe",
    legacy=legacy_reader(
        salt="newsletter.unsubscribe", max_age=lambda: None, decode=_hex_id, timestamped=False
    ),
)
issue_preview_link = SignedLink(
    "newsletter.issue-preview",
    max_age=_preview_max_age,
    legacy=legacy_reader(salt="newsletter.issue-preview", max_age=_preview_max_age, decode=_int_id),
)


def unsubscribe_url(subscriber_id: int) -> str:
    """The subscriber's personal, lasting one-click unsubscribe URL (absolute)."""
    return token_url("newsletter:unsubscribe", unsubscribe_link.make(subscriber_id))


def confirm_url(subscriber_id: int) -> str:
    """The expiring double opt-in link of a pending subscriber (absolute)."""
    return token_url("newsletter:confirm", confirm_link.make(subscriber_id))


def issue_preview_url(issue_id: int) -> str:
    return token_url("newsletter:issue_draft", issue_preview_link.make(issue_id))
