"""Signed links for subscribers: confirm (expiring) and unsubscribe (lasting, as RFC 8058 needs).

Tokens are HMAC-signed with SECRET_KEY and a purpose-specific salt, so a confirm token cannot
be used to unsubscribe and an altered token is refused.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM_SALT = "newsletter.confirm"
UNSUBSCRIBE_SALT = "newsletter.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)


class InvalidToken(Exception):
    """The token was forged, altered, expired or made for another purpose."""


def make_confirm_token(subscriber_id: int) -> str:
    return signing.dumps(subscriber_id, salt=CONFIRM_SALT)


def read_confirm_token(token: str) -> int:
    max_age = getattr(settings, "NEWSLETTER_CONFIRM_MAX_AGE", CONFIRM_MAX_AGE)
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT, max_age=max_age))
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise InvalidToken(str(error)) from error


_unsubscribe_signer = signing.Signer(salt=UNSUBSCRIBE_SALT)


def make_unsubscribe_token(subscriber_id: int) -> str:
    return _unsubscribe_signer.sign(format(subscriber_id, "x"))


def read_unsubscribe_token(token: str) -> int:
    try:
        return int(_unsubscribe_signer.unsign(token), 16)
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise InvalidToken(str(error)) from error


# --- Absolute links for emails ---------------------------------------------------------------
# The sender's hot loop calls `unsubscribe_url` once per recipient: the URL prefix is resolved
# once per SITE_URL (no `reverse()` per call), and signing one short id is one HMAC.

_TOKEN_PLACEHOLDER = "TOKEN"  # noqa: S105 - a placeholder in a URL pattern, not a secret


@lru_cache(maxsize=8)
def _url_prefix(site_url: str, route_name: str) -> str:
    path = reverse(route_name, kwargs={"token": _TOKEN_PLACEHOLDER})
    return site_url.rstrip("/") + path[: path.index(_TOKEN_PLACEHOLDER)]


def unsubscribe_url(subscriber_id: int) -> str:
    """The subscriber's personal, lasting one-click unsubscribe URL (absolute)."""
    prefix = _url_prefix(settings.SITE_URL, "newsletter:unsubscribe")
    return f"{prefix}{make_unsubscribe_token(subscriber_id)}/"


def confirm_url(subscriber_id: int) -> str:
    """The expiring double opt-in link of a pending subscriber (absolute)."""
    prefix = _url_prefix(settings.SITE_URL, "newsletter:confirm")
    return f"{prefix}{make_confirm_token(subscriber_id)}/"


# --- Staff's shareable preview of an unsent issue ------------------------------------------
ISSUE_PREVIEW_SALT = "newsletter.issue-preview"
ISSUE_PREVIEW_MAX_AGE = timedelta(days=3)


def make_issue_preview_token(issue_id: int) -> str:
    return signing.dumps(issue_id, salt=ISSUE_PREVIEW_SALT)


def read_issue_preview_token(token: str) -> int:
    max_age = getattr(settings, "NEWSLETTER_ISSUE_PREVIEW_MAX_AGE", ISSUE_PREVIEW_MAX_AGE)
    try:
        return int(signing.loads(token, salt=ISSUE_PREVIEW_SALT, max_age=max_age))
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise InvalidToken(str(error)) from error


def issue_preview_url(issue_id: int) -> str:
    prefix = _url_prefix(settings.SITE_URL, "newsletter:issue_draft")
    return f"{prefix}{make_issue_preview_token(issue_id)}/"
