"""The ledger's batches: leases, row locks, heartbeats, constant queries, the unmarked window,
the rate throttle."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.models import Delivery, DeliveryBatch, Issue, Subscriber
from newsletter.sending import claims, run_lane
from newsletter.sending.claims import Claimed
from newsletter.sending.outcomes import SENT, Outcome
from newsletter.sending.pool import UNSENT, Job, SenderPool
from newsletter.sending.throttle import SendThrottle
from newsletter.services.sends import deliveries_create
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.services import need_postgresql
from tests.smtp_server import SMTPServer


def sending_issue(subscribers: int) -> Issue:
    SubscriberFactory.create_batch(subscribers)
    issue = IssueFactory.create(status=Issue.Status.SENDING, send_started_at=timezone.now())
    IssueItemFactory.create(issue=issue)
    deliveries_create(issue_id=issue.pk, now=timezone.now())
    return issue


@pytest.mark.django_db
@override_settings(NEWSLETTER_BATCH_SIZE=3)
def test_a_claimed_batch_is_leased_and_claimable_again_only_when_the_lease_runs_out() -> None:
    issue = sending_issue(6)
    now = timezone.now()
    first = claims.claim(issue_id=issue.pk, lease_seconds=30, now=now)
    second = claims.claim(issue_id=issue.pk, lease_seconds=30, now=now)
    assert first is not None
    assert second is not None
    assert first.batch_id != second.batch_id
    assert claims.claim(issue_id=issue.pk, lease_seconds=30, now=now) is None

    # The lane holding `first` renews its lease; the one holding `second` died.
    assert claims.renew(first, lease_seconds=30, now=now + timedelta(seconds=20))
    later = now + timedelta(seconds=31)
    reclaimed = claims.claim(issue_id=issue.pk, lease_seconds=30, now=later)
    assert reclaimed is not None
    assert reclaimed.batch_id == second.batch_id
    assert reclaimed.claim != second.claim
    assert claims.claim(issue_id=issue.pk, lease_seconds=30, now=later) is None
    # The dead lane's token no longer renews anything.
    assert not claims.renew(second, lease_seconds=30, now=later)


@pytest.mark.django_db
@override_settings(NEWSLETTER_BATCH_SIZE=2)
def test_batches_left_by_a_dead_lane_or_with_a_retry_due_are_claimed_before_fresh_ones() -> None:
    issue = sending_issue(10)
    now = timezone.now()
    alive = claims.claim(issue_id=issue.pk, lease_seconds=600, now=now)
    dead = claims.claim(issue_id=issue.pk, lease_seconds=5, now=now)
    retried = claims.claim(issue_id=issue.pk, lease_seconds=600, now=now)
    assert alive
    assert dead
    assert retried
    # The third lane sent its rows; one got a 4xx and waits for its retry, 60 s later.
    rows = claims.due_rows(retried, now=now)
    claims.mark_sent(delivery_ids=[rows[0].delivery_id], issue_id=issue.pk, now=now)
    retry_at = now + timedelta(seconds=60)
    claims.mark_deferred(delivery_id=rows[1].delivery_id, now=now, retry_at=retry_at, error="451")
    assert not claims.close(retried, now=now)

    # 6 s later: the first lane renewed, the second died (its lease was 5 s): its batch comes
    # before fresh ones.
    assert claims.renew(alive, lease_seconds=600, now=now + timedelta(seconds=4))
    later = now + timedelta(seconds=6)
    first = claims.claim(issue_id=issue.pk, lease_seconds=600, now=later)
    assert first is not None
    assert first.batch_id == dead.batch_id
    fresh = claims.claim(issue_id=issue.pk, lease_seconds=600, now=later)
    assert fresh is not None
    assert fresh.batch_id not in (dead.batch_id, retried.batch_id)
    # When the retry is due, its batch is next, ahead of the last fresh one.
    due = claims.claim(issue_id=issue.pk, lease_seconds=5, now=retry_at)
    assert due is not None
    assert due.batch_id == retried.batch_id
    assert [r.delivery_id for r in claims.due_rows(due, now=retry_at)] == [rows[1].delivery_id]


@pytest.mark.django_db(transaction=True)
def test_a_batch_locked_by_another_claim_in_progress_is_skipped_not_waited_for() -> None:
    need_postgresql()
    with override_settings(NEWSLETTER_BATCH_SIZE=2):
        issue = sending_issue(4)
    first = DeliveryBatch.objects.filter(issue=issue).order_by("id").first()
    assert first is not None
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                list(DeliveryBatch.objects.select_for_update().filter(pk=first.pk))
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        lease = claims.claim(issue_id=issue.pk, lease_seconds=30, now=timezone.now())
    finally:
        release.set()
        holder.join()
    assert lease is not None
    assert lease.batch_id != first.pk


def queries_for_one_batch(size: int) -> tuple[int, int]:
    with override_settings(NEWSLETTER_BATCH_SIZE=size):
        issue = sending_issue(size)
    with CaptureQueriesContext(connection) as queries:
        result = run_lane(issue_id=issue.pk)
    assert result.sent == size
    assert result.batches == 1
    marks = [q for q in queries.captured_queries if "SET \"status\" = 'sent'" in q["sql"]]
    marks += [q for q in queries.captured_queries if "WITH marked AS" in q["sql"]]
    return len(queries.captured_queries) - len(marks), result.sent


@pytest.mark.django_db
def test_queries_per_batch_do_not_grow_with_the_batch_size_except_the_marks() -> None:
    small, small_sent = queries_for_one_batch(5)
    Subscriber.objects.all().delete()
    large, large_sent = queries_for_one_batch(60)

    figures = f"queries besides the marks: batch of 5 -> {small}, batch of 60 -> {large}"
    # Per batch: claim (select, update), rows, donors, close (count, update); per lane: the
    # issue, its items (rendered once), SET/RESET synchronous_commit, the last empty claim;
    # the test's transaction adds savepoints.
    assert small == large, figures
    assert large <= 16, figures
    assert len(mail.outbox) == small_sent + large_sent == 65


@pytest.mark.django_db
@override_settings(NEWSLETTER_SMTP_CONNECTIONS=4, NEWSLETTER_IN_FLIGHT_MAX=4)
def test_no_more_messages_than_the_window_are_ever_accepted_and_unmarked(
    smtp_server: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a worker killed at any moment can send twice is bounded: each mark, when it is
    written, covers everything the server accepted beyond the window."""
    issue = sending_issue(120)
    real_mark_sent = claims.mark_sent
    marked, gaps, statements = [0], [], [0]

    def watching_mark_sent(**kwargs: Any) -> str | None:
        statements[0] += 1
        gaps.append(len(smtp_server.messages) - marked[0])
        marked[0] += len(kwargs["delivery_ids"])
        return real_mark_sent(**kwargs)

    monkeypatch.setattr(claims, "mark_sent", watching_mark_sent)
    result = run_lane(issue_id=issue.pk)

    assert result.sent == 120
    assert len(smtp_server.messages) == 120
    figures = f"120 messages marked in {statements[0]} statements; gaps {gaps}"
    assert max(gaps) <= 4, figures
    assert statements[0] < 120, figures  # several messages per mark


@pytest.mark.django_db
def test_the_batch_size_is_bounded_by_the_setting() -> None:
    with override_settings(NEWSLETTER_BATCH_SIZE=5):
        issue = sending_issue(12)
    result = run_lane(issue_id=issue.pk, max_batches=1)
    assert (result.claimed, result.sent, result.more) == (5, 5, True)
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 7
    assert list(DeliveryBatch.objects.order_by("id").values_list("status", "sent")) == [
        ("done", 5),
        ("open", 0),
        ("open", 0),
    ]


class RecordingSender:
    def __init__(self, sent: list[int]) -> None:
        self.sent = sent

    def send(self, jobs: Any) -> list[Outcome]:
        self.sent.extend(job.row.delivery_id for job in jobs)
        return [SENT] * len(jobs)

    def close(self) -> None:
        return None


def test_a_lane_hands_nothing_over_once_its_lease_may_have_run_out() -> None:
    sent: list[int] = []
    pool = SenderPool(lambda: RecordingSender(sent), threads=2, window=2)
    jobs = [[Job(Claimed(n, n, f"r{n}@example.org", "active", 0), True)] for n in range(3)]
    try:
        pool.submit(jobs[0])
        assert pool.results(timeout=5)[0][1] == [SENT]
        pool.marked(1)
        pool.valid_until = 0.0  # the heartbeat could not renew the lease in time
        pool.submit(jobs[1])
        pool.submit(jobs[2])
        reported = pool.results(timeout=5) + pool.results(timeout=5)
    finally:
        pool.close()
    assert sent == [0]
    assert [outcomes for _, outcomes in reported] == [[UNSENT], [UNSENT]]


def test_the_throttle_lets_rate_messages_through_per_second_across_workers() -> None:
    store = LocMemCache("throttle-test", {})
    clock = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    # Two workers sharing one store, as Redis is shared in production.
    workers = [SendThrottle(3, store=store, clock=lambda: clock[0], sleep=sleep) for _ in range(2)]
    for turn in range(6):
        workers[turn % 2].acquire()
    assert clock[0] == 1001.0  # six messages at 3/s: the fourth had to wait for the next second
    assert slept == [1.0]
    assert SendThrottle(0, store=store).per_window == 0  # 0 = unlimited, no cache traffic


def test_a_provider_call_larger_than_a_window_takes_the_windows_it_needs() -> None:
    store = LocMemCache("throttle-test-batch", {})
    clock = [3000.0]
    throttle = SendThrottle(
        10, store=store, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s)
    )
    throttle.acquire(25)  # 10 now, 10 in the next second, 5 in the one after
    assert clock[0] == 3002.0
    throttle.acquire(5)  # the rest of that third second
    assert clock[0] == 3002.0
    throttle.acquire(1)
    assert clock[0] == 3003.0


def test_a_rate_below_one_per_second_spaces_messages_out() -> None:
    store = LocMemCache("throttle-test-slow", {})
    clock = [2000.0]
    throttle = SendThrottle(
        0.5, store=store, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s)
    )
    throttle.acquire()
    throttle.acquire()
    assert clock[0] == 2002.0
