"""Signed links for subscribers: confirm (expiring) and unsubscribe (lasting, as RFC 8058 needs).

Tokens are HMAC-signed with SECRET_KEY and a purpose-specific salt, so a confirm token cannot
be used to unsubscribe and an altered token is refused.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

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
