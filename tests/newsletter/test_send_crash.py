"""Real Celery workers on Redis and PostgreSQL, against a real SMTP server on loopback.

* A worker SIGKILLed mid-send: the rest is sent within 60 s of the kill, while the other
  worker's lanes are busy with the same send; every subscriber gets the issue, and no address
  twice except at most the killed worker's in-flight window.
* A temporary refusal's retry goes out within 30 s of its time while other batches of the
  same send are still running (no sweeper involved: the lanes pick it up).

Leases, heartbeats and the sweeper's period are shortened by settings so the tests stay fast.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.test import override_settings
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber
from newsletter.services.issues import issue_send_now
from tests.celery_worker import WorkerProcess
from tests.newsletter.factories import IssueFactory, IssueItemFactory
from tests.services import need_postgresql
from tests.smtp_server import SMTPServer


def wait_for(condition: Callable[[], bool], *, timeout: float, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(every)


def readers(count: int) -> list[str]:
    now = timezone.now()
    emails = [f"reader{n:05d}@example.org" for n in range(count)]
    Subscriber.objects.bulk_create(
        Subscriber(email=email, status="active", confirmed_at=now) for email in emails
    )
    return emails


def ready_issue() -> Issue:
    issue = IssueFactory.create()
    IssueItemFactory.create(issue=issue)
    return issue


SUBSCRIBERS = 3000
CONCURRENCY = 2
IN_FLIGHT_MAX = 8


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_is_taken_over_within_a_minute_and_repeats_only_its_window(
    celery_worker_process: type[WorkerProcess],
) -> None:
    need_postgresql()
    emails = readers(SUBSCRIBERS)
    issue = ready_issue()
    smtp = SMTPServer().start()
    env = {
        "EMAIL_URL": smtp.url,
        "NEWSLETTER_SEND_LANES": "4",
        "NEWSLETTER_IN_FLIGHT_MAX": str(IN_FLIGHT_MAX),
        "NEWSLETTER_SEND_RATE": "400",  # so the send outlasts the kill and the lease
        "NEWSLETTER_LEASE_SECONDS": "4",
        "NEWSLETTER_HEARTBEAT_SECONDS": "1",
        "NEWSLETTER_SWEEP_SECONDS": "1",
        "NEWSLETTER_SWEEP_STALE_SECONDS": "2",
    }
    try:
        doomed = celery_worker_process(concurrency=CONCURRENCY, env=env).start()
        celery_worker_process(concurrency=CONCURRENCY, env=env, beat=True).start()
        with override_settings(NEWSLETTER_BATCH_SIZE=50, NEWSLETTER_SEND_LANES=4):
            issue_send_now(issue=issue)  # autocommit: the ledger is made, the lanes queued
        wait_for(lambda: len(smtp.messages) >= 600, timeout=60)
        doomed.kill()
        killed_at, received_at_kill = time.monotonic(), len(smtp.messages)
        assert received_at_kill < SUBSCRIBERS, "the send finished before the kill"

        wait_for(lambda: set(smtp.recipients()) >= set(emails), timeout=90, every=0.2)
        last = max(message.received_at for message in smtp.messages)
        wait_for(lambda: Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT, timeout=30)
    finally:
        smtp.stop()

    counts = Counter(smtp.recipients())
    repeated = {address: n for address, n in counts.items() if n > 1}
    figures = (
        f"received at the kill: {received_at_kill}; the rest within {last - killed_at:.1f} s "
        f"of it; repeated: {len(repeated)} (the window: {CONCURRENCY} x {IN_FLIGHT_MAX})"
    )
    assert last - killed_at < 60, figures
    assert set(counts) == set(emails), figures
    assert len(repeated) <= CONCURRENCY * IN_FLIGHT_MAX, figures
    assert set(repeated.values()) <= {2}, figures
    assert Delivery.objects.filter(issue=issue, status="sent").count() == SUBSCRIBERS


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_due_retry_goes_out_within_30_s_while_other_batches_of_the_send_run(
    celery_worker_process: type[WorkerProcess],
) -> None:
    need_postgresql()
    emails = readers(1500)
    busy = emails[3]  # in the first batch
    refused_at: list[float] = []

    def rcpt_reply(address: str) -> str | None:
        if address == busy and not refused_at:
            refused_at.append(time.monotonic())
            return "450 4.2.1 Mailbox busy, try later"
        return None

    smtp = SMTPServer(rcpt_reply=rcpt_reply).start()
    env = {
        "EMAIL_URL": smtp.url,
        "NEWSLETTER_SEND_LANES": "2",
        "NEWSLETTER_SEND_RATE": "100",  # the send takes about 15 s
        "NEWSLETTER_RETRY_SECONDS": "3",
        "NEWSLETTER_SWEEP_SECONDS": "3600",  # no sweeper: the lanes must do it
    }
    try:
        celery_worker_process(concurrency=2, env=env).start()
        with override_settings(NEWSLETTER_BATCH_SIZE=50, NEWSLETTER_SEND_LANES=2):
            issue_send_now(issue=ready_issue())
        wait_for(lambda: busy in smtp.recipients(), timeout=60, every=0.1)
        delivered = next(m for m in smtp.messages if busy in m.rcpt_tos)
        wait_for(lambda: set(smtp.recipients()) >= set(emails), timeout=60, every=0.2)
    finally:
        smtp.stop()

    due = refused_at[0] + 3
    after_it = [m for m in smtp.messages if m.received_at > delivered.received_at]
    figures = (
        f"the retry went out {delivered.received_at - due:.1f} s after its time; "
        f"{len(after_it)} messages of the send came after it"
    )
    assert delivered.received_at - due < 30, figures
    assert len(after_it) > 100, figures  # other batches were still running
    assert Counter(smtp.recipients())[busy] == 1
