"""The batch sender's ledger work: leases, row locks, constant queries, the rate throttle."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.models import Delivery, Issue
from newsletter.sending import send_batch
from newsletter.sending.claims import claim_batch
from newsletter.sending.throttle import SendThrottle
from newsletter.services.sends import deliveries_create
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.services import need_postgresql


def sending_issue(subscribers: int) -> Issue:
    SubscriberFactory.create_batch(subscribers)
    issue = IssueFactory.create(status=Issue.Status.SENDING, send_started_at=timezone.now())
    IssueItemFactory.create(issue=issue)
    deliveries_create(issue_id=issue.pk, now=timezone.now())
    return issue


@pytest.mark.django_db
def test_claimed_rows_are_leased_and_claimable_again_only_when_the_lease_expires() -> None:
    issue = sending_issue(6)
    now = timezone.now()
    _, first = claim_batch(issue_id=issue.pk, size=4, lease_seconds=60, now=now)
    _, second = claim_batch(issue_id=issue.pk, size=4, lease_seconds=60, now=now)
    assert len(first) == 4
    assert len(second) == 2
    assert {r.delivery_id for r in first}.isdisjoint(r.delivery_id for r in second)
    assert claim_batch(issue_id=issue.pk, size=4, lease_seconds=60, now=now)[1] == []

    # The worker holding `first` died: after its lease, its rows go to the next claimer.
    later = now + timedelta(seconds=61)
    _, reclaimed = claim_batch(issue_id=issue.pk, size=10, lease_seconds=60, now=later)
    assert {r.delivery_id for r in reclaimed} == {r.delivery_id for r in first + second}


@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_another_claim_in_progress_are_skipped_not_waited_for() -> None:
    need_postgresql()
    issue = sending_issue(4)
    locked = threading.Event()
    release = threading.Event()
    first_ids = list(Delivery.objects.order_by("id").values_list("id", flat=True)[:2])

    def hold_locks() -> None:
        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(id__in=first_ids))
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_locks)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        _, claimed = claim_batch(issue_id=issue.pk, size=4, lease_seconds=60, now=timezone.now())
    finally:
        release.set()
        holder.join()
    assert len(claimed) == 2
    assert not {r.delivery_id for r in claimed} & set(first_ids)


def queries_for_one_batch(size: int) -> tuple[int, int]:
    issue = sending_issue(size)
    with CaptureQueriesContext(connection) as queries:
        result = send_batch(issue_id=issue.pk, batch_size=size)
    assert result.sent == size
    return len(queries.captured_queries), result.sent


@pytest.mark.django_db
def test_queries_per_batch_do_not_grow_with_the_batch_size_except_one_mark_per_message() -> None:
    small_total, small_sent = queries_for_one_batch(5)
    Delivery.objects.all().delete()
    large_total, large_sent = queries_for_one_batch(60)

    figures = f"queries: batch of 5 -> {small_total}, batch of 60 -> {large_total}"
    assert large_total - large_sent == small_total - small_sent, figures
    assert small_total - small_sent <= 8, figures
    assert len(mail.outbox) == 65


@pytest.mark.django_db
def test_the_batch_size_is_bounded_by_the_setting() -> None:
    issue = sending_issue(12)
    with override_settings(NEWSLETTER_BATCH_SIZE=5):
        result = send_batch(issue_id=issue.pk)
    assert (result.claimed, result.sent, result.full) == (5, 5, True)
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 7


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


def test_a_rate_below_one_per_second_spaces_messages_out() -> None:
    store = LocMemCache("throttle-test-slow", {})
    clock = [2000.0]
    throttle = SendThrottle(
        0.5, store=store, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s)
    )
    throttle.acquire()
    throttle.acquire()
    assert clock[0] == 2002.0
