"""The send at issue level: start (claim), the lanes, finish. The sweeper is in `sweep`.

An issue is *claimed* for sending by one conditional UPDATE (scheduled -> sending): two beats,
two clicks or a beat and a click race on it and exactly one wins; the loser changes nothing.
The winner, in the same transaction, gives the issue its web address and creates the ledger:
one Delivery row per active subscriber and the batches over them, in two set-based
statements. Lane tasks (`send_issue_batch`) are queued on commit; each claims batches until
none is left and hands over to a fresh task every NEWSLETTER_LANE_SECONDS. If an enqueue is
lost (a crash, a Redis restart) the sweeper queues lanes again.

The tasks are defined here, beside the services they run (pretix's way); `newsletter.tasks`
only imports them so Celery registers them. Nothing here imports anything task-side.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.models import DeliveryBatch, Issue
from newsletter.sending import claims, run_lane
from newsroom.task_base import task

logger = logging.getLogger(__name__)

# Issue statuses from which "send now" may start a send.
STARTABLE = (Issue.Status.DRAFT, Issue.Status.SCHEDULED)
# A lane hands over after NEWSLETTER_LANE_SECONDS and one more batch; these limits only end a
# lane that hangs (its batch is then claimed again once its lease runs out).
_LANE_SOFT_LIMIT = settings.NEWSLETTER_LANE_SECONDS + 120
_LANE_HARD_LIMIT = _LANE_SOFT_LIMIT + 30


@task(
    name="newsletter.tasks.send_issue_batch",
    reject_on_worker_lost=True,
    soft_time_limit=_LANE_SOFT_LIMIT,
    time_limit=_LANE_HARD_LIMIT,
)
def send_issue_batch(issue_id: int) -> dict[str, int]:
    """One lane: send batches of the issue, then hand over to a fresh lane or finish it.
    A provider or server that cannot be reached ends it with `TransientSendError`, which
    the task base retries with backoff."""
    result = run_lane(issue_id=issue_id)
    if result.more:
        enqueue_batches(issue_id=issue_id, lanes=1)  # its successor (the sweeper sees it)
    elif result.interrupted:  # no successor: the sweeper queues lanes at its next run
        Issue.objects.filter(pk=issue_id).update(lanes_queued_at=None)
    elif not result.stopped:
        # Batches still open are leased by another lane or wait for a retry: that lane, or
        # the sweeper once they are due, sends them. Otherwise the issue is done.
        issue_finish_if_done(issue_id=issue_id)
    return {"batches": result.batches, "sent": result.sent, "failed": result.failed}


def enqueue_batches(*, issue_id: int, lanes: int | None = None) -> None:
    """Queue `lanes` lane tasks for the issue once the current transaction commits, and note
    when (`lanes_queued_at`): the sweeper gives queued lanes time to start before it decides
    they were lost."""
    count = lanes if lanes is not None else settings.NEWSLETTER_SEND_LANES
    noted = timezone.now()
    Issue.objects.filter(pk=issue_id).update(lanes_queued_at=noted)
    transaction.on_commit(functools.partial(_queue_lanes, issue_id, max(count, 1), noted))


def _queue_lanes(issue_id: int, count: int, noted: datetime) -> None:
    """After the commit. If the broker took none (it is down), the note is taken back: the
    sweeper then queues lanes at its first run once the broker is back, instead of waiting
    NEWSLETTER_SWEEP_STALE_SECONDS for lanes that were never queued."""
    queued = 0
    while queued < count and send_issue_batch.enqueue(issue_id):  # stop at the first refusal
        queued += 1
    if not queued:
        Issue.objects.filter(pk=issue_id, lanes_queued_at=noted).update(lanes_queued_at=None)


def _web_slug_for(issue: Issue, *, now: datetime) -> str:
    """The send date in the newsroom's zone (`2026-11-27`), `-2`, `-3` ... if already taken."""
    base = timezone.localtime(now).date().isoformat()
    taken = set(
        Issue.objects.filter(web_slug__startswith=base)
        .exclude(pk=issue.pk)
        .values_list("web_slug", flat=True)
    )
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def deliveries_create(*, issue_id: int, now: datetime) -> int:
    """One queued Delivery per active subscriber and the batches over them (see `claims`)."""
    return claims.create(issue_id=issue_id, now=now, batch_size=settings.NEWSLETTER_BATCH_SIZE)


def issue_start_sending(
    *, issue_id: int, from_statuses: tuple[str, ...] = (Issue.Status.SCHEDULED,)
) -> bool:
    """Claim the issue and queue its deliveries; False (and no change) if another got it first."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Issue.objects.filter(pk=issue_id, status__in=from_statuses).update(
            status=Issue.Status.SENDING, send_started_at=now, updated_at=now
        )
        if not claimed:
            return False
        issue = Issue.objects.select_for_update().get(pk=issue_id)
        if not issue.web_slug:
            issue.web_slug = _web_slug_for(issue, now=now)
            issue.save(update_fields=["web_slug", "updated_at"])
        created = deliveries_create(issue_id=issue_id, now=now)
        enqueue_batches(issue_id=issue_id)
    logger.info(
        "newsletter send started",
        extra={"issue_id": issue_id, "deliveries": created, "web_slug": issue.web_slug},
    )
    return True


def issue_finish_if_done(*, issue_id: int) -> bool:
    """sending -> sent once no batch is open. Safe to call any number of times."""
    now = timezone.now()
    with transaction.atomic():
        issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
        if issue is None or issue.status != Issue.Status.SENDING:
            return False
        if issue.batches.filter(status=DeliveryBatch.Status.OPEN).exists():
            return False
        issue.status = Issue.Status.SENT
        issue.sent_at = now
        issue.save(update_fields=["status", "sent_at", "updated_at"])
    logger.info("newsletter send finished", extra={"issue_id": issue_id})
    return True


def issue_start_due(*, now: datetime | None = None) -> list[int]:
    """Start every scheduled issue whose time has come; the ids of those this call started."""
    now = now or timezone.now()
    due = Issue.objects.filter(status=Issue.Status.SCHEDULED, scheduled_for__lte=now)
    return [
        issue_id
        for issue_id in due.order_by("scheduled_for").values_list("pk", flat=True)
        if issue_start_sending(issue_id=issue_id)
    ]
