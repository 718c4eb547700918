"""Django's SMTP backend, DKIM-signing every message when DKIM is configured.

`EMAIL_URL=smtp://...` (and `smtp+tls://`, `smtps://`) selects this backend, so every email the
site sends over SMTP (newsletter, receipts, confirmations, staff notices) is signed. The
newsletter's fast path writes prebuilt bytes to this backend's connection and signs them
itself with the same `newsroom.smtp.signing.sign`.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

from newsroom.smtp.signing import sign


class SMTPBackend(EmailBackend):
    def _send(self, email_message: EmailMessage) -> bool:
        if not email_message.recipients() or self.connection is None:
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        envelope_from = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        data = sign(email_message.message().as_bytes(linesep="\r\n"))
        try:
            self.connection.sendmail(envelope_from, recipients, data)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
