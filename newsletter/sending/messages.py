"""One recipient's message: the rendered issue plus personal links and headers, no templates.

Headers: `List-Unsubscribe` (the personal https link and a mailto), `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 8058), `List-Id` and a `Message-ID` that is the same every
time the same issue goes to the same subscriber (so a resent message can be recognised).

Over SMTP each message's envelope sender is its delivery's bounce address
(`bounces+<token>@BOUNCE_DOMAIN`, newsletter.bounces.verp) when BOUNCE_DOMAIN is set, and it is
DKIM-signed when DKIM is set (newsroom.smtp): the prebuilt bytes here, a message object by the
signing backend.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.utils.crypto import salted_hmac

from newsletter.bounces.verp import return_path
from newsletter.models import Issue
from newsletter.rendering import UNSUBSCRIBE_PLACEHOLDER, RenderedIssue
from newsletter.tokens import unsubscribe_url
from newsroom.mail_domain import site_domain
from newsroom.smtp.signing import sign

MESSAGE_ID_SALT = "newsletter.message-id"


def list_id() -> str:
    domain = site_domain()
    name = settings.SITE_NAME.replace('"', "")
    return f'"{name} newsletter" <newsletter.{domain}>'


def unsubscribe_mailto() -> str:
    configured: str = settings.NEWSLETTER_UNSUBSCRIBE_MAILTO
    return configured or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


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
        self.bounce_addresses = isinstance(connection, SMTPBackend)

    def build(
        self, *, subscriber_id: int, email: str, show_ask: bool, delivery_id: int | None = None
    ) -> EmailMultiAlternatives:
        link = unsubscribe_url(subscriber_id)
        message = self.compose(
            email=email,
            link=link,
            mailto_subject=quote("unsubscribe " + link.rstrip("/").rsplit("/", 1)[-1]),
            message_id=message_id(
                issue_id=self.issue_id, subscriber_id=subscriber_id, domain=self.domain
            ),
            show_ask=show_ask,
        )
        envelope = return_path(delivery_id) if delivery_id and self.bounce_addresses else None
        if envelope:  # the SMTP backend takes the envelope sender from `from_email`
            message.extra_headers["From"] = message.from_email
            message.from_email = envelope
        return message

    def compose(
        self, *, email: str, link: str, mailto_subject: str, message_id: str, show_ask: bool
    ) -> EmailMultiAlternatives:
        html, text = self.rendered.personalise(unsubscribe_url=link, show_ask=show_ask)
        headers = {
            "List-Unsubscribe": f"<{link}>, <mailto:{self.mailto}?subject={mailto_subject}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": self.list_id,
            "Message-ID": message_id,
        }
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


# --- SMTP fast path -------------------------------------------------------------------------
_TO = "nr-recipient@placeholder.invalid"
_LINK = UNSUBSCRIBE_PLACEHOLDER
_MAILTO_SUBJECT = "nr-mailto-subject-placeholder"
_MESSAGE_ID = "<nr-message-id@placeholder.invalid>"


class PrebuiltMessages:
    """For Django's SMTP backend: the MIME message built once per batch (per ask variant) with
    placeholders, then one recipient's bytes by four `bytes.replace` calls — no MIME tree, no
    header encoding per message. ESP backends (anymail) take `MessageFactory.build` instead.

    Only used when the placeholders survive encoding intact (8bit bodies, ASCII addresses);
    otherwise `bytes_for` returns None and the caller builds the message the slow way.
    """

    def __init__(self, factory: MessageFactory) -> None:
        self.factory = factory
        self.envelope_from = sanitize_address(factory.from_email, "utf-8")
        self.templates = {ask: self._template(ask) for ask in (True, False)}

    def _template(self, show_ask: bool) -> bytes | None:
        message = self.factory.compose(
            email=_TO, link=_LINK, mailto_subject=_MAILTO_SUBJECT, message_id=_MESSAGE_ID,
            show_ask=show_ask,
        )  # fmt: skip
        data = message.message().as_bytes(linesep="\r\n")
        html, text = self.factory.rendered.personalise(unsubscribe_url=_LINK, show_ask=show_ask)
        expected = {
            _TO: 1, _MESSAGE_ID: 1, _MAILTO_SUBJECT: 1,
            _LINK: 1 + html.count(_LINK) + text.count(_LINK),
        }  # fmt: skip
        if any(data.count(key.encode()) != n for key, n in expected.items()):
            return None  # a body went quoted-printable or base64: placeholders were split
        if max(len(line) for line in data.split(b"\r\n")) > 900:
            return None  # a personal link could push a line past SMTP's 998 characters
        return data

    def envelope_for(self, delivery_id: int) -> str:
        """The envelope sender: the delivery's bounce address, else the From address."""
        return return_path(delivery_id) or self.envelope_from

    def bytes_for(self, *, subscriber_id: int, email: str, show_ask: bool) -> bytes | None:
        template = self.templates[show_ask]
        if template is None or not email.isascii() or any(c in email for c in '\r\n<>,"\\'):
            return None
        link = unsubscribe_url(subscriber_id)
        token = link.rstrip("/").rsplit("/", 1)[-1]
        factory = self.factory
        ident = message_id(
            issue_id=factory.issue_id, subscriber_id=subscriber_id, domain=factory.domain
        )
        return sign(
            template.replace(_TO.encode(), email.encode())
            .replace(_MESSAGE_ID.encode(), ident.encode())
            .replace(_MAILTO_SUBJECT.encode(), quote("unsubscribe " + token).encode())
            .replace(_LINK.encode(), link.encode())
        )
