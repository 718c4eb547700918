"""Send one batch of an issue: claim, send over one connection, mark each row.

Exactly once, and the one window
--------------------------------
Every delivery row is queued until a worker marks it sent, and it is marked sent by a single
autocommitted UPDATE issued right after the SMTP server (or ESP API) accepted that message.
A worker killed at any point therefore leaves:

* rows it never sent: still queued, leased; claimable again when the lease expires;
* rows it sent and marked: sent, never claimed again;
* at most ONE row that the server accepted but whose mark did not commit, because the worker
  sends one message at a time and marks it before sending the next. That row is resent after
  the lease expires: the only duplicate, one per killed worker process.

A live worker never outlives its lease: it stops sending at half the lease and gives the rest
back (`release`), and the batch task's hard time limit is shorter than the lease. So a slow
worker and a new claimer never hold the same row. A re-delivered task or one queued twice is
just another claimer: it finds nothing it may claim, or different rows.

Queries per batch: load the issue, claim (select + lease update), donors (one query), progress
update, at most one release and one skip — plus one UPDATE per message (its mark). The count
does not grow with the batch size except for that per-message mark.
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.utils import timezone

from donations.selectors import active_recurring_donor_emails
from newsletter.models import Issue
from newsletter.rendering import RenderedIssue, render_issue
from newsletter.sending import claims
from newsletter.sending.messages import MessageFactory, PrebuiltMessages
from newsletter.sending.throttle import SendThrottle
from newsletter.services.bounces import delivery_refused_record
from newsroom.errors import TransientError

logger = logging.getLogger(__name__)

HARD_BOUNCE_CODES = frozenset({550, 551, 553})
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


class TransientSendError(TransientError):
    """The mail server or ESP could not be reached: the batch task retries with backoff."""


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    bounced: int = 0
    stopped: bool = False  # the issue is not sending (paused, cancelled, sent)

    @property
    def full(self) -> bool:
        """The batch took all it asked for: more rows are probably waiting."""
        return self.claimed > 0 and self.released == 0 and not self.stopped


@dataclass(frozen=True)
class Outcome:
    kind: str  # "sent" | "transient" | "permanent" | "connection" | "unavailable"
    error: str = ""
    hard_bounce: bool = False


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
    """1, 2, 4 ... minutes, at most an hour (short, so no task ETA outlives the broker's)."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


_rendered: OrderedDict[tuple[int, datetime], RenderedIssue] = OrderedDict()


def rendered_issue(issue: Issue) -> RenderedIssue:
    """Render once per send per worker process; keep the last few."""
    key = (issue.pk, issue.updated_at)
    if key not in _rendered:
        _rendered[key] = render_issue(issue)
        while len(_rendered) > 4:
            _rendered.popitem(last=False)
    return _rendered[key]


def send_batch(*, issue_id: int, batch_size: int | None = None) -> BatchResult:
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None or issue.status != Issue.Status.SENDING:
        return BatchResult(stopped=True)
    now = timezone.now()
    claim, rows = claims.claim_batch(
        issue_id=issue_id,
        size=batch_size or settings.NEWSLETTER_BATCH_SIZE,
        lease_seconds=float(settings.NEWSLETTER_LEASE_SECONDS),
        now=now,
    )
    result = BatchResult(claimed=len(rows))
    if not rows:
        return result
    result.skipped = claims.skip_inactive(
        delivery_ids=[row.delivery_id for row in rows if not row.active], claim=claim, now=now
    )
    active = [row for row in rows if row.active]
    try:
        if active:
            donors = active_recurring_donor_emails(row.email for row in active)
            _send_claimed(issue, claim=claim, rows=active, donors=donors, result=result)
    finally:
        Issue.objects.filter(pk=issue_id).update(progress_at=timezone.now())
    logger.info(
        "newsletter batch sent",
        extra={
            "issue_id": issue_id,
            "claimed": result.claimed,
            "sent": result.sent,
            "deferred": result.deferred,
            "failed": result.failed,
            "skipped": result.skipped,
            "released": result.released,
        },
    )
    return result


def _send_claimed(
    issue: Issue,
    *,
    claim: uuid.UUID,
    rows: list[claims.Claimed],
    donors: set[str],
    result: BatchResult,
) -> None:
    """Send the claimed rows one by one over one connection, marking each before the next."""
    # Stop at half the lease: a live worker never holds rows another may claim.
    stop_at = time.monotonic() + float(settings.NEWSLETTER_LEASE_SECONDS) / 2
    connection = get_connection()
    factory = MessageFactory(issue=issue, rendered=rendered_issue(issue), connection=connection)
    throttle = SendThrottle(settings.NEWSLETTER_SEND_RATE)
    prebuilt = PrebuiltMessages(factory) if isinstance(connection, SMTPBackend) else None
    # Rows before `next_row` are marked. While a message is in flight (handed to the server,
    # not yet marked) an interruption (soft time limit, error) must not give its row back:
    # it stays leased and, if the server did accept it, is the one allowed duplicate.
    next_row, in_flight = 0, False
    try:
        _open(connection)
        for row in rows:
            if time.monotonic() > stop_at:
                break
            throttle.acquire()
            in_flight = True
            outcome = _send_one(
                connection, factory, prebuilt, row, show_ask=row.email.lower() not in donors
            )
            _record(outcome, row=row, claim=claim, result=result)
            next_row, in_flight = next_row + 1, False
            if outcome.kind == "unavailable":
                # The ESP is down or over quota: this row is deferred like any temporary
                # error, the rest go back uncharged and the task retries with backoff. (Going
                # on would charge every row, failing the whole list during a two-hour outage;
                # charging none would let one message the ESP always 5xxs stall the send.)
                raise TransientSendError(outcome.error)
            if result.stopped:
                break  # paused or cancelled meanwhile: the rest goes back, unsent
            if outcome.kind == "connection":
                _reopen(connection)
    finally:
        unsent = rows[next_row + 1 :] if in_flight else rows[next_row:]
        result.released = claims.release(
            delivery_ids=[row.delivery_id for row in unsent], claim=claim
        )
        _close(connection)


def _send_one(
    connection: BaseEmailBackend,
    factory: MessageFactory,
    prebuilt: PrebuiltMessages | None,
    row: claims.Claimed,
    *,
    show_ask: bool,
) -> Outcome:
    """Hand one message to the server: prebuilt bytes over the open SMTP connection when
    possible, else a message object through the backend (any anymail ESP)."""
    data = (
        prebuilt.bytes_for(subscriber_id=row.subscriber_id, email=row.email, show_ask=show_ask)
        if prebuilt is not None
        else None
    )
    try:
        if data is not None and isinstance(connection, SMTPBackend) and connection.connection:
            assert prebuilt is not None  # noqa: S101 - narrowing for mypy
            envelope = prebuilt.envelope_for(row.delivery_id)
            connection.connection.sendmail(envelope, [row.email], data)
            return Outcome("sent")
        message = factory.build(
            subscriber_id=row.subscriber_id, email=row.email, show_ask=show_ask,
            delivery_id=row.delivery_id,
        )  # fmt: skip
        sent = connection.send_messages([message])
    except (smtplib.SMTPException, AnymailError, OSError) as error:  # what classify() sorts
        return classify(error, email=row.email)
    return Outcome("sent") if sent else Outcome("connection", "Not accepted")


def _record(
    outcome: Outcome, *, row: claims.Claimed, claim: uuid.UUID, result: BatchResult
) -> None:
    """Mark the row at once (autocommit) — see the module docstring for why it matters."""
    now = timezone.now()
    if outcome.kind == "sent":
        issue_status = claims.mark_sent(delivery_id=row.delivery_id, claim=claim, now=now)
        if issue_status is None:
            logger.warning(
                "delivery lost its claim while sending", extra={"delivery_id": row.delivery_id}
            )
        result.sent += 1
        result.stopped = issue_status != Issue.Status.SENDING
        return
    attempts = row.attempts + 1
    if outcome.kind == "permanent" or attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
        claims.mark_failed(delivery_id=row.delivery_id, claim=claim, now=now, error=outcome.error)
        result.failed += 1
        if outcome.hard_bounce:
            delivery_refused_record(delivery_id=row.delivery_id, detail=outcome.error)
            result.bounced += 1
        return
    claims.mark_deferred(
        delivery_id=row.delivery_id,
        claim=claim,
        now=now,
        retry_at=now + retry_delay(attempts),
        error=outcome.error,
    )
    result.deferred += 1


def _open(connection: BaseEmailBackend) -> None:
    try:
        connection.open()
    except (OSError, smtplib.SMTPException, AnymailError) as error:
        raise TransientSendError(clean_reply(error) or type(error).__name__) from error


def _reopen(connection: BaseEmailBackend) -> None:
    _close(connection)
    _open(connection)


def _close(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except (OSError, smtplib.SMTPException):
        logger.info("closing the mail connection failed; it was already gone")
