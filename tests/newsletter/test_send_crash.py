"""The kill test: real Celery workers on Redis and PostgreSQL, SIGKILLed mid-send.

Every subscriber must receive the issue; no address twice, except at most one per killed
worker process (the message the server accepted whose "sent" mark was lost).
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
from newsletter.services.sends import sweep
from tests.celery_worker import WorkerProcess
from tests.newsletter.factories import IssueFactory, IssueItemFactory
from tests.services import need_postgresql
from tests.smtp_server import SMTPServer

SUBSCRIBERS = 2000
CONCURRENCY = 2
LEASE_SECONDS = 4


def wait_for(condition: Callable[[], bool], *, timeout: float, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(every)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_neither_loses_nor_repeats_a_message(
    celery_worker_process: type[WorkerProcess],
) -> None:
    need_postgresql()
    now = timezone.now()
    Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{n}@example.org", status="active", confirmed_at=now)
        for n in range(SUBSCRIBERS)
    )
    issue = IssueFactory.create()
    IssueItemFactory.create(issue=issue)
    smtp = SMTPServer().start()
    worker_env = {
        "EMAIL_URL": smtp.url,
        "NEWSLETTER_LEASE_SECONDS": str(LEASE_SECONDS),
        "NEWSLETTER_BATCH_SIZE": "50",
        "NEWSLETTER_SEND_LANES": "4",
    }
    try:
        first = celery_worker_process(concurrency=CONCURRENCY, env=worker_env).start()
        issue_send_now(issue=issue)  # autocommit: the batch tasks are queued at once
        wait_for(lambda: len(smtp.messages) >= 300, timeout=60)
        first.kill()
        received_at_kill = len(smtp.messages)
        stranded = Delivery.objects.filter(
            issue=issue, status="queued", leased_until__gt=timezone.now()
        ).count()
        assert received_at_kill < SUBSCRIBERS, "the send finished before the kill"

        celery_worker_process(concurrency=CONCURRENCY, env=worker_env).start()

        def drained() -> bool:
            # No beat here: the test runs the sweeper, as beat does every minute.
            with override_settings(NEWSLETTER_SWEEP_STALE_SECONDS=1):
                sweep()
            return not Delivery.objects.filter(issue=issue, status="queued").exists()

        wait_for(drained, timeout=90, every=1)
        wait_for(lambda: len(smtp.recipients()) >= SUBSCRIBERS, timeout=10)
    finally:
        smtp.stop()

    counts = Counter(smtp.recipients())
    repeated = {address: n for address, n in counts.items() if n > 1}
    figures = (
        f"received at kill: {received_at_kill}, rows leased by the killed worker: {stranded}, "
        f"repeated: {repeated}"
    )
    assert set(counts) == {f"reader{n}@example.org" for n in range(SUBSCRIBERS)}, figures
    assert len(repeated) <= CONCURRENCY, figures
    assert all(n == 2 for n in repeated.values()), figures
    assert Delivery.objects.filter(issue=issue, status="sent").count() == SUBSCRIBERS
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
