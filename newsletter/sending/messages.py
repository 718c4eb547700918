"""One recipient's message: the rendered issue plus personal links and headers, no templates.

Headers: `List-Unsubscribe` (the personal https link and a mailto), `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 8058), `List-Id` and a `Message-ID` that is the same every
time the same issue goes to the same subscriber (so a resent message can be recognised).

Over SMTP each message's bytes and envelope are made in one place, `smtp.SMTPMessages`: the
envelope sender is its delivery's bounce address (`bounces+<token>@BOUNCE_DOMAIN`,
newsletter.bounces.verp) when BOUNCE_DOMAIN is set, and the bytes are DKIM-signed when DKIM is
set (newsroom.smtp.signing).
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.crypto import salted_hmac

from newsletter.models import Issue
from newsletter.rendering import RenderedIssue
from newsletter.tokens import unsubscribe_url
from newsroom.mail_domain import site_domain

MESSAGE_ID_SALT = "newsletter.message-id"


def list_id() -> str:
    domain = site_domain()
    name = settings.SITE_NAME.replace('"', "")
    return f'"{name} newsletter" <newsletter.{domain}>'


def unsubscribe_mailto() -> str:
    configured: str = settings.NEWSLETTER_UNSUBSCRIBE_MAILTO
    return configured or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def mailto_subject(link: str) -> str:
    """The mailto: half's subject, `unsubscribe <token>`, URL-quoted."""
    return quote("unsubscribe " + link.rstrip("/").rsplit("/", 1)[-1])


def message_id(*, issue_id: int, subscriber_id: int, domain: str) -> str:
    """Stable per (issue, subscriber), and reveals no subscriber id."""
    digest = salted_hmac(MESSAGE_ID_SALT, f"{issue_id}:{subscriber_id}").hexdigest()[:24]
    return f"<issue{issue_id}.{digest}@{domain}>"


class MessageFactory:
    """Builds one recipient's message from the issue rendered once; cheap per call."""

    def __init__(
        self, *, issue: Issue, rendered: RenderedIssue, connection: BaseEmailBackend | None
    ) -> None:
        self.issue_id = issue.pk
        self.rendered = rendered
        self.connection = connection
        self.domain = site_domain()
        self.list_id = list_id()
        self.mailto = unsubscribe_mailto()
        self.from_email = settings.DEFAULT_FROM_EMAIL

    def build(self, *, subscriber_id: int, email: str, show_ask: bool) -> EmailMultiAlternatives:
        link = unsubscribe_url(subscriber_id)
        return self.compose(
            email=email,
            link=link,
            mailto_subject=mailto_subject(link),
            message_id=self.message_id(subscriber_id),
            show_ask=show_ask,
        )

    def message_id(self, subscriber_id: int) -> str:
        return message_id(issue_id=self.issue_id, subscriber_id=subscriber_id, domain=self.domain)

    def list_headers(self) -> dict[str, str]:
        """The headers every recipient's message has in common."""
        return {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "List-Id": self.list_id}

    def personal_headers(
        self, *, link: str, mailto_subject: str, message_id: str
    ) -> dict[str, str]:
        """The headers that are one recipient's own: their unsubscribe links, the Message-ID."""
        return {
            "List-Unsubscribe": f"<{link}>, <mailto:{self.mailto}?subject={mailto_subject}>",
            "Message-ID": message_id,
        }

    def compose(
        self, *, email: str, link: str, mailto_subject: str, message_id: str, show_ask: bool
    ) -> EmailMultiAlternatives:
        html, text = self.rendered.personalise(unsubscribe_url=link, show_ask=show_ask)
        headers = self.personal_headers(
            link=link, mailto_subject=mailto_subject, message_id=message_id
        )
        headers.update(self.list_headers())
        message = EmailMultiAlternatives(
            subject=self.rendered.subject,
            body=text,
            from_email=self.from_email,
            to=[email],
            headers=headers,
            connection=self.connection,
        )
        message.attach_alternative(html, "text/html")
        return message

    def build_test(self, *, email: str, unsubscribe_link: str) -> EmailMultiAlternatives:
        """A staff test copy: marked as a test, with no subscriber behind it."""
        html, text = self.rendered.personalise(unsubscribe_url=unsubscribe_link, show_ask=True)
        message = EmailMultiAlternatives(
            subject=f"[TEST] {self.rendered.subject}",
            body=text,
            from_email=self.from_email,
            to=[email],
            headers={"X-Newsletter-Test": "yes", "List-Id": self.list_id},
            connection=self.connection,
        )
        message.attach_alternative(html, "text/html")
        return message
