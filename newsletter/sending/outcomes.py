"""What a mail server's or provider's answer means for a delivery row, and when to retry.

`classify` maps an SMTP or anymail error to an `Outcome`: sent, a temporary refusal (the row
is tried again later), a permanent one (failed; a hard bounce also suppresses the address), a
dropped connection (deferred; the sender reconnects), or the server/provider being unavailable
(the lane stops and its task retries with backoff: `TransientSendError`).
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings

from newsroom.errors import TransientError

HARD_BOUNCE_CODES = frozenset({550, 551, 553})
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


class TransientSendError(TransientError):
    """The mail server or provider could not be reached: the lane's task retries later (the
    task base's one retry policy for transient errors)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    # sent | transient (a 4xx: retried later) | permanent (failed) | connection (dropped:
    # retried later, the sender reconnects) | unavailable (the provider answered 5xx/429 or
    # not at all: retried later, the lane stops and its task retries) | unreachable (nothing
    # was handed over: uncharged, the lane stops) | unsent (the lane stopped before it:
    # uncharged) | crashed (a bug: unknown, left to the lease)
    kind: str
    error: str = ""
    hard_bounce: bool = False


SENT = Outcome("sent")


def clean_reply(text: object) -> str:
    """An SMTP/ESP reply fit for the ledger: no address in it, at most 200 characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _ADDRESS.sub("<address>", str(text)).strip()[:200]


def classify(error: Exception, *, email: str) -> Outcome:
    """Map SMTP and anymail errors to what the ledger does with the row."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = error.recipients.get(email, next(iter(error.recipients.values())))
        return _by_code(code, reply, recipient=True)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return Outcome("connection", clean_reply(error))
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code, error.smtp_error, recipient=False)
    if isinstance(error, AnymailRecipientsRefused):
        return Outcome("permanent", "Refused by the email provider", hard_bounce=True)
    if isinstance(error, AnymailAPIError) and _esp_unavailable(error):
        return Outcome(
            "unavailable", clean_reply(error.describe_response() or type(error).__name__)
        )
    if isinstance(error, AnymailError):
        return Outcome("transient", clean_reply(error.describe_response() or type(error).__name__))
    if isinstance(error, (OSError, smtplib.SMTPException)):
        return Outcome("connection", clean_reply(error) or type(error).__name__)
    raise error


def _esp_unavailable(error: AnymailAPIError) -> bool:
    """No answer, a 5xx or a 429: the ESP is down or over quota, not refusing this message."""
    status = error.status_code
    return status is None or status >= 500 or status == 429


def _by_code(code: int, reply: object, *, recipient: bool) -> Outcome:
    text = clean_reply(f"{code} {clean_reply(reply)}")
    if 400 <= code < 500:
        return Outcome("transient", text)
    return Outcome("permanent", text, hard_bounce=recipient and code in HARD_BOUNCE_CODES)


def retry_delay(attempts: int) -> timedelta:
    """NEWSLETTER_RETRY_SECONDS (60), doubled per attempt, at most an hour.

    The retry is a time on the row, not a task ETA: a running lane or the sweeper picks the
    row up when it is due, so no broker holds a message longer than its visibility timeout.
    """
    base = settings.NEWSLETTER_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))
