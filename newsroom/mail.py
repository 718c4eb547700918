"""Sending one email, with the mail server's or provider's answer sorted into two kinds.

`send(message)` raises `TransientMailError` when trying again later may work (a 4xx reply, a
dropped or refused connection, a timeout, a provider's 5xx or 429, bad credentials that staff
can fix) — the task base retries it with backoff — and `MailRefused` when the message was
refused for good (a 5xx reply for its recipient): retrying would only repeat the refusal.
Neither carries an address: replies are reduced to their codes.
"""

from __future__ import annotations

import smtplib

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.core.mail import EmailMessage

from newsroom.errors import ApplicationError, TransientError


class TransientMailError(TransientError):
    """The message could not be handed over now; a later attempt may succeed."""


class MailRefused(ApplicationError):
    """The server or provider refused the message for good."""


def _by_code(code: int, error: Exception) -> ApplicationError:
    extra = {"smtp_code": code, "error": type(error).__name__}
    if 500 <= code < 600:
        return MailRefused(extra=extra)
    return TransientMailError(extra=extra)


def send(message: EmailMessage) -> None:
    """Hand `message` to the configured backend (its connection has `EMAIL_TIMEOUT`)."""
    try:
        sent = message.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted(code for code, _ in error.recipients.values())
        raise _by_code(codes[0] if codes else 450, error) from error
    except (smtplib.SMTPConnectError, smtplib.SMTPAuthenticationError) as error:
        raise TransientMailError(extra={"error": type(error).__name__}) from error
    except smtplib.SMTPResponseException as error:
        raise _by_code(error.smtp_code, error) from error
    except (smtplib.SMTPException, OSError) as error:  # disconnected, refused, timed out
        raise TransientMailError(extra={"error": type(error).__name__}) from error
    except AnymailRecipientsRefused as error:
        raise MailRefused(extra={"error": type(error).__name__}) from error
    except AnymailAPIError as error:
        status = error.status_code
        if status is None or status >= 500 or status == 429:
            raise TransientMailError(extra={"http_status": status}) from error
        raise MailRefused(extra={"http_status": status}) from error
    except AnymailError as error:
        raise TransientMailError(extra={"error": type(error).__name__}) from error
    if not sent:
        raise TransientMailError(extra={"error": "not accepted"})
