"""Redis killed mid-send and started again, empty: real Celery workers and beat on a private
redis-server (never the shared one), PostgreSQL, a real SMTP server on loopback.

Killing Redis loses every queued lane task and every connection at once, as a Redis restart
without persistence does in production. The workers must ride out the outage (they reconnect
to the broker), the lanes that were running must end cleanly (their successors cannot be
queued), and beat's sweeper must queue lanes again once Redis is back: the send is moving
again within 60 s of it, and every subscriber gets the issue exactly once (no worker died, so
nothing should repeat; the bound asserted is the in-flight window of every lane that ran).

Twice: with NEWSLETTER_SEND_RATE set (its shared counter lives in Redis too, so the lanes lose
it with the broker), and without (the default: lanes need no Redis to send, so they go on
until they hand over; a slow mail server keeps the send long enough).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from newsletter.models import Delivery, Issue
from newsletter.services.issues import issue_schedule
from tests.celery_worker import WorkerProcess
from tests.newsletter.test_send_crash import readers, ready_issue, wait_for
from tests.redis_server import PrivateRedis
from tests.services import need_postgresql
from tests.smtp_server import SMTPServer

SUBSCRIBERS = 2000
WORKERS, CONCURRENCY, IN_FLIGHT_MAX = 2, 2, 8
OUTAGE_SECONDS = 7  # lanes hand over every second, so all of them end during the outage


def slow_server(address: str) -> None:
    """About 300 messages/s at most: each RCPT holds the server's one event loop 3 ms."""
    time.sleep(0.003)


@pytest.mark.parametrize("throttled", [True, False], ids=["send-rate-set", "no-send-rate"])
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_redis_restart_mid_send_loses_the_queue_and_beat_gets_the_send_moving_within_a_minute(
    celery_worker_process: type[WorkerProcess], throttled: bool
) -> None:
    need_postgresql()
    emails = readers(SUBSCRIBERS)
    issue = ready_issue()
    smtp = SMTPServer(rcpt_reply=None if throttled else slow_server).start()
    redis = PrivateRedis().start()
    env = {
        "REDIS_URL": redis.url,  # broker, result backend and cache: all on the private server
        "EMAIL_URL": smtp.url,
        "NEWSLETTER_BATCH_SIZE": "100",
        "NEWSLETTER_SEND_LANES": "4",
        "NEWSLETTER_IN_FLIGHT_MAX": str(IN_FLIGHT_MAX),
        "NEWSLETTER_SEND_RATE": "300" if throttled else "0",  # the send outlasts the outage
        "NEWSLETTER_LANE_SECONDS": "1",
        "NEWSLETTER_LEASE_SECONDS": "4",
        "NEWSLETTER_HEARTBEAT_SECONDS": "1",
        "NEWSLETTER_SWEEP_SECONDS": "1",
        "NEWSLETTER_SWEEP_STALE_SECONDS": "30",  # production's: refused hand-overs must not wait
    }
    try:
        workers = [
            celery_worker_process(concurrency=CONCURRENCY, env=env).start(wait=False),
            celery_worker_process(concurrency=CONCURRENCY, env=env, beat=True).start(wait=False),
        ]
        for worker in workers:
            worker.wait_until_ready()
        # Beat's sweeper starts a scheduled issue when its time comes, as on a Friday.
        issue_schedule(issue=issue, send_at=timezone.now() + timedelta(seconds=1))
        wait_for(lambda: len(smtp.messages) >= 450, timeout=60)  # mid-batch
        redis.kill()
        received_at_kill = len(smtp.messages)
        time.sleep(OUTAGE_SECONDS)
        redis.start()
        restarted_at, received_at_restart = time.monotonic(), len(smtp.messages)
        late_in_outage = [m for m in smtp.messages if m.received_at > restarted_at - 2]

        wait_for(lambda: set(smtp.recipients()) >= set(emails), timeout=90, every=0.2)
        wait_for(lambda: Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT, timeout=30)
    finally:
        smtp.stop()
        redis.stop()

    messages = smtp.messages
    resumed = min(m.received_at for m in messages if m.received_at > restarted_at)
    last = max(m.received_at for m in messages)
    counts = Counter(smtp.recipients())
    repeated = {address: n for address, n in counts.items() if n > 1}
    window = WORKERS * CONCURRENCY * IN_FLIGHT_MAX
    figures = (
        f"received at the kill: {received_at_kill}, at the restart: {received_at_restart} "
        f"(in the outage's last 2 s: {len(late_in_outage)}); moving again "
        f"{resumed - restarted_at:.1f} s after the restart, done {last - restarted_at:.1f} s "
        f"after it; repeated: {len(repeated)} (bound {window})"
    )
    assert received_at_restart < SUBSCRIBERS, "the send finished during the outage: " + figures
    assert not late_in_outage, "lanes still sent late in the outage: nothing was lost: " + figures
    assert resumed - restarted_at < 60, figures  # the target (issue #12)
    # Lanes that ended in the outage (a refused hand-over, or a lost send-rate counter) left no
    # "lanes queued" note behind, so the sweeper did not wait NEWSLETTER_SWEEP_STALE_SECONDS
    # (30 s, production's) for lanes that were never queued.
    assert resumed - restarted_at < 20, figures
    assert last - restarted_at < 60, figures
    assert set(counts) == set(emails), figures
    assert len(repeated) <= window, figures
    assert set(repeated.values()) <= {2}, figures
    assert Delivery.objects.filter(issue=issue, status="sent").count() == SUBSCRIBERS
