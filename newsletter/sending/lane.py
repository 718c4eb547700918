"""A lane: one task's run of the send. It claims batches one after another, sends each batch's
rows over several connections, marks them in the ledger, and keeps its lease alive.

Exactly once, and the window
----------------------------
Every delivery row is queued until a lane marks it sent, and a lane marks rows only after the
mail server (or provider) accepted them. Sender threads hand messages over; the lane's main
thread marks what was accepted in one UPDATE per few messages (a commit that does not wait
for the disk, `synchronous_commit = off`, unless NEWSLETTER_MARK_SYNCHRONOUS_COMMIT). A lane
may have at most NEWSLETTER_IN_FLIGHT_MAX messages (over SMTP) or one provider call per sender
thread handed over and not yet marked. A worker killed at any moment therefore leaves:

* rows it never sent: queued; its batch is claimed again once its lease runs out;
* rows it sent and marked: sent, never sent again;
* at most that window of rows accepted by the server but not marked: sent again by the next
  claimer. These are the only duplicates: per killed worker process, at most
  NEWSLETTER_IN_FLIGHT_MAX messages (SMTP) or NEWSLETTER_PROVIDER_CONCURRENCY provider calls
  per lane it ran. A PostgreSQL crash (not a worker's) can also lose the marks of its last
  ~0.6 s (three `wal_writer_delay`s) when they were committed without waiting for the disk:
  those messages are sent again, none is lost.

A lease is short (NEWSLETTER_LEASE_SECONDS) and renewed every NEWSLETTER_HEARTBEAT_SECONDS
while the lane works. The sender threads stop handing messages over once the last successful
renewal is a lease minus a heartbeat old, so a lane that cannot renew (the database is gone)
stops before anyone may claim its batch: a slow lane and a new claimer never send the same row.

Queries per batch: claim (select + update), rows (one select), donors (one), close (two), one
heartbeat per NEWSLETTER_HEARTBEAT_SECONDS, plus one UPDATE per handful of messages (the marks).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection as db

from newsletter.models import Issue
from newsletter.rendering import RenderedIssue, render_issue
from newsletter.sending import providers
from newsletter.sending.messages import MessageFactory
from newsletter.sending.pool import SenderPool
from newsletter.sending.results import LaneResult, Transport
from newsletter.sending.smtp import SMTPMessages, SMTPSender
from newsletter.sending.stream import Stream
from newsletter.sending.throttle import SendThrottle

logger = logging.getLogger(__name__)


_rendered: OrderedDict[tuple[int, datetime], RenderedIssue] = OrderedDict()


def rendered_issue(issue: Issue) -> RenderedIssue:
    """Render once per send per worker process; keep the last few."""
    key = (issue.pk, issue.updated_at)
    if key not in _rendered:
        _rendered[key] = render_issue(issue)
        while len(_rendered) > 4:
            _rendered.popitem(last=False)
    return _rendered[key]


def transport_for(factory: MessageFactory) -> Transport:
    backend = get_connection()
    if isinstance(backend, SMTPBackend):
        messages = SMTPMessages(factory)
        threads = settings.NEWSLETTER_SMTP_CONNECTIONS
        window = max(settings.NEWSLETTER_IN_FLIGHT_MAX, threads)
        return Transport(lambda: SMTPSender(messages), threads, 1, window)
    if hasattr(backend, "esp_name"):  # an anymail backend
        provider = providers.provider_for(backend)
        threads = settings.NEWSLETTER_PROVIDER_CONCURRENCY
        size = providers.batch_size(provider)
        return Transport(
            lambda: providers.ProviderSender(factory, provider),
            threads,
            size,
            threads,
            open_batches=max(2, threads) if size > 1 else 2,
        )
    # Any other Django backend (files in the demo, memory in tests): one message at a time.
    return Transport(lambda: providers.ProviderSender(factory, None), 1, 1, 1)


@contextlib.contextmanager
def commits_without_waiting() -> Iterator[None]:
    """This connection's commits do not wait for the WAL flush (PostgreSQL), for the lane."""
    if db.vendor != "postgresql" or settings.NEWSLETTER_MARK_SYNCHRONOUS_COMMIT:
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def run_lane(*, issue_id: int, max_batches: int | None = None) -> LaneResult:
    """Claim and send batches of the issue until none is claimable or the lane's time is up
    (or, for tests and the bench, `max_batches` were sent)."""
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None or issue.status != Issue.Status.SENDING:
        return LaneResult(stopped=True)
    factory = MessageFactory(issue=issue, rendered=rendered_issue(issue), connection=None)
    transport = transport_for(factory)
    result = LaneResult()
    pool = SenderPool(
        transport.make_sender,
        threads=transport.threads,
        window=transport.window,
        throttle=SendThrottle(settings.NEWSLETTER_SEND_RATE),
    )
    stream = Stream(
        issue_id=issue_id,
        pool=pool,
        transport=transport,
        result=result,
        ends=time.monotonic() + settings.NEWSLETTER_LANE_SECONDS,
        max_batches=max_batches,
    )
    try:
        with commits_without_waiting():
            stream.run()
    finally:
        pool.close()
    result.interrupted = pool.counter_lost and not result.stopped
    return result
