"""Sending through an email provider (django-anymail): many recipients per API call where the
provider has a batch interface, several calls at once where it has none.

A batch call carries the issue's body once, with the recipient's own parts as merge data:
each recipient gets a separate message addressed to them alone (never a shared `To`), their
own unsubscribe link in the body, and their own `List-Unsubscribe` and `Message-ID` headers
(anymail's `merge_headers`). How each provider takes merge data:

| Provider   | Batch interface (anymail)                       | Merge field in the body | Max  |
| ---------- | ----------------------------------------------- | ----------------------- | ---- |
| Mailgun    | recipient-variables                             | `%recipient.name%`      | 1000 |
| SendGrid   | personalizations with substitutions             | `:name:`                | 1000 |
| Postmark   | /email/batch (bodies filled per message)        | `{{name}}`              | 500  |
| Amazon SES | SendBulkEmail with an inline template (SES v2)  | `{{name}}`              | 50   |

Postmark and SES take a small subclass of anymail's backend (`provider_backends`). Batch sizes
come from NEWSLETTER_PROVIDER_BATCH_SIZES (a provider's maximum caps them). Any other provider
gets one message per call, NEWSLETTER_PROVIDER_CONCURRENCY calls at once per lane.

A call is the unit of the ledger: its recipients are marked together once it returns. A call
that fails (the provider answers 5xx, 429 or not at all) charges each of its recipients one
attempt and is sent again whole later; a recipient is never in two calls of one attempt. If a
worker dies while a call is in flight, the provider may have accepted it unmarked: the
duplicate window is one call per sender thread.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from newsletter.sending.messages import MessageFactory, mailto_subject
from newsletter.sending.outcomes import SENT, Outcome, classify
from newsletter.sending.pool import Job
from newsletter.tokens import unsubscribe_url

UNSUBSCRIBE_FIELD = "unsubscribe_url"
REFUSED = frozenset({"rejected", "invalid"})


@dataclass(frozen=True)
class Provider:
    key: str  # in NEWSLETTER_PROVIDER_BATCH_SIZES
    maximum: int
    merge_field: str  # a merge field as written in the body, `{}` standing for its name
    esp_extra: dict[str, Any] = field(default_factory=dict)
    backend: str = ""  # a subclass of the anymail backend that sends the batch, if needed
    escape: tuple[str, str] = ("", "")  # template syntax in the issue itself, made literal


PROVIDERS = {
    "Mailgun": Provider("mailgun", 1000, "%recipient.{}%"),
    "SendGrid": Provider("sendgrid", 1000, ":{}:", {"merge_field_format": ":{}:"}),
    "Postmark": Provider(
        "postmark",
        500,
        "{{{{{}}}}}",
        backend="newsletter.sending.provider_backends.PostmarkBatchBackend",
    ),
    "Amazon SES": Provider(
        "amazon_ses",
        50,
        "{{{{{}}}}}",
        backend="newsletter.sending.provider_backends.SESBulkBackend",
        escape=("{{", "\\{{"),  # SES templates are Handlebars: `\{{` is a literal `{{`
    ),
}


def provider_for(connection: BaseEmailBackend) -> Provider | None:
    """The batch profile of the configured anymail backend, or None (one message per call)."""
    return PROVIDERS.get(getattr(connection, "esp_name", ""))


def batch_size(provider: Provider | None) -> int:
    if provider is None:
        return 1
    configured = settings.NEWSLETTER_PROVIDER_BATCH_SIZES.get(provider.key, 1000)
    return max(1, min(int(configured), provider.maximum))


def units(jobs: Sequence[Job], size: int) -> list[list[Job]]:
    """Calls of at most `size` recipients sharing one body (the same ask variant); an address
    that differs from another in the call only by case starts a new call. Size 1: one each."""
    if size <= 1:
        return [[job] for job in jobs]
    calls: list[list[Job]] = []
    for show_ask in (True, False):
        current: list[Job] = []
        seen: set[str] = set()
        for job in jobs:
            if job.show_ask != show_ask:
                continue
            address = job.row.email.lower()
            if len(current) >= size or address in seen:
                calls.append(current)
                current, seen = [], set()
            current.append(job)
            seen.add(address)
        if current:
            calls.append(current)
    return calls


class ProviderSender:
    """One anymail backend (its own HTTP session), used by one sender thread."""

    def __init__(self, factory: MessageFactory, provider: Provider | None) -> None:
        self.factory = factory
        self.provider = provider
        backend = provider.backend if provider and provider.backend else None
        self.connection = get_connection(backend)

    def send(self, jobs: Sequence[Job]) -> list[Outcome]:
        if self.provider is None:
            return [self._send([job], self._single(job)) for job in jobs]
        message = self._batch(jobs)
        try:
            self.connection.send_messages([message])
        except (smtplib.SMTPException, AnymailError, OSError) as error:  # what classify() sorts
            if isinstance(error, AnymailRecipientsRefused):
                return [Outcome("permanent", "Refused by the email provider", True)] * len(jobs)
            return [classify(error, email=jobs[0].row.email)] * len(jobs)
        statuses = message.anymail_status.recipients  # type: ignore[attr-defined]
        return [self._verdict(statuses.get(job.row.email)) for job in jobs]

    def _send(self, jobs: Sequence[Job], message: EmailMultiAlternatives) -> Outcome:
        try:
            sent = self.connection.send_messages([message])
        except (smtplib.SMTPException, AnymailError, OSError) as error:  # what classify() sorts
            return classify(error, email=jobs[0].row.email)
        return SENT if sent else Outcome("connection", "Not accepted")

    def _single(self, job: Job) -> EmailMultiAlternatives:
        row = job.row
        return self.factory.build(
            subscriber_id=row.subscriber_id, email=row.email, show_ask=job.show_ask
        )

    def _batch(self, jobs: Sequence[Job]) -> EmailMultiAlternatives:
        """One message to many, each recipient's own parts as merge data and headers."""
        assert self.provider is not None  # noqa: S101 - only called for batch providers
        factory = self.factory
        placeholder = self.provider.merge_field.format(UNSUBSCRIBE_FIELD)
        html, text = factory.rendered.personalise(
            unsubscribe_url=placeholder, show_ask=jobs[0].show_ask, escape=self.provider.escape
        )
        message = EmailMultiAlternatives(
            subject=factory.rendered.subject,
            body=text,
            from_email=factory.from_email,
            to=[job.row.email for job in jobs],
            headers=factory.list_headers(),
        )
        message.attach_alternative(html, "text/html")
        merge_data, merge_headers = {}, {}
        for job in jobs:
            link = unsubscribe_url(job.row.subscriber_id)
            merge_data[job.row.email] = {UNSUBSCRIBE_FIELD: link}
            merge_headers[job.row.email] = factory.personal_headers(
                link=link,
                mailto_subject=mailto_subject(link),
                message_id=factory.message_id(job.row.subscriber_id),
            )
        message.merge_data = merge_data  # type: ignore[attr-defined]
        message.merge_headers = merge_headers  # type: ignore[attr-defined]
        if self.provider.esp_extra:
            message.esp_extra = dict(self.provider.esp_extra)  # type: ignore[attr-defined]
        return message

    @staticmethod
    def _verdict(status: Any) -> Outcome:
        if status is not None and status.status in REFUSED:
            return Outcome("permanent", "Refused by the email provider", hard_bounce=True)
        if status is not None and status.status == "failed":
            return Outcome("transient", "Not accepted by the email provider")
        return SENT

    def close(self) -> None:
        self.connection.close()
