"""The beats of the send: the Friday start (or a notice to staff that nothing is ready) and
the sweeper, every NEWSLETTER_SWEEP_SECONDS, which starts issues scheduled for any other time,
finishes drained sends and queues lanes where the ledger has work no lane is doing.

Tasks are defined beside the services they run; `newsletter.tasks` imports them for Celery.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from newsletter.models import DeliveryBatch, Issue, NoIssueNotice
from newsletter.services.sends import enqueue_batches, issue_finish_if_done, issue_start_due
from newsroom import mail
from newsroom.task_base import task

logger = logging.getLogger(__name__)


@task(name="newsletter.tasks.send_weekly_issue", soft_time_limit=100, time_limit=120)
def send_weekly_issue() -> str:
    """Beat, every send day at the send time: start the due issue or tell staff none is ready."""
    return weekly_send()


@task(name="newsletter.tasks.sweep_deliveries", soft_time_limit=100, time_limit=120)
def sweep_deliveries() -> dict[str, int]:
    """Beat, every NEWSLETTER_SWEEP_SECONDS: start due issues, finish drained ones, queue
    lanes for work no lane is doing."""
    return sweep()


def staff_notification_recipients() -> list[str]:
    if settings.STAFF_NOTIFICATION_EMAILS:
        return list(settings.STAFF_NOTIFICATION_EMAILS)
    users = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _notify_no_issue_ready(*, send_day: date) -> bool:
    """Email staff that nothing is ready, once per send day (a row with a unique day)."""
    recipients = staff_notification_recipients()
    try:
        with transaction.atomic():
            NoIssueNotice.objects.create(send_day=send_day)
            # Sent inside the transaction: if the mail fails, the row rolls back and the task's
            # retry tries again; if the row exists, a second beat sends nothing.
            mail.send(
                EmailMessage(
                    subject=f"No newsletter issue is ready for {send_day:%A %d %B}",
                    body=(
                        f"The weekly send of {settings.SITE_NAME} ran at "
                        f"{settings.NEWSLETTER_SEND_TIME} and found no scheduled issue, so "
                        "nothing was sent to subscribers.\n\n"
                        "Compose an issue and schedule it, or use 'Send now', in the admin:\n"
                        f"{settings.SITE_URL}/admin/newsletter/issue/\n"
                    ),
                    to=recipients,
                )
            )
    except IntegrityError:
        return False
    logger.warning(
        "no newsletter issue ready", extra={"send_day": send_day.isoformat(), "notified": True}
    )
    return True


def weekly_send(*, now: datetime | None = None) -> str:
    """The Friday beat: start the due issue, or tell staff (once) that none is ready."""
    now = now or timezone.now()
    if issue_start_due(now=now):
        return "started"
    in_flight = Issue.objects.filter(status__in=[Issue.Status.SENDING, Issue.Status.PAUSED])
    started_this_week = Issue.objects.filter(send_started_at__gte=now - timedelta(days=6))
    coming_today = Issue.objects.filter(
        status=Issue.Status.SCHEDULED, scheduled_for__lte=now + timedelta(days=1)
    )
    if in_flight.exists() or started_this_week.exists() or coming_today.exists():
        return "already-sending"
    if _notify_no_issue_ready(send_day=timezone.localtime(now).date()):
        return "notified"
    return "already-notified"


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Start due issues, finish drained ones, and queue lanes where the ledger has claimable
    batches that no lane will reach:

    * a batch whose lease ran out (its lane died): lanes are queued for it whatever other
      lanes of the send are doing, so a killed worker's rows go out again within a lease and a
      sweep, not when the rest of the send is over;
    * claimable batches (fresh ones, or retries now due) while no lane holds a lease: the
      lanes' tasks were lost with a killed worker or a restarted Redis, never enqueued, or
      ended before a retry came due.

    Lanes queued in the last NEWSLETTER_SWEEP_STALE_SECONDS are given time to start, so a busy
    queue does not pile up lanes.
    """
    now = now or timezone.now()
    started = len(issue_start_due(now=now))
    finished = requeued = 0
    stale_before = now - timedelta(seconds=settings.NEWSLETTER_SWEEP_STALE_SECONDS)
    sending = Issue.objects.filter(status=Issue.Status.SENDING).only("pk", "lanes_queued_at")
    for issue in sending:
        if issue_finish_if_done(issue_id=issue.pk):
            finished += 1
            continue
        if issue.lanes_queued_at and issue.lanes_queued_at > stale_before:
            continue
        lanes = _lanes_needed(issue_id=issue.pk, now=now)
        if not lanes:
            continue
        with transaction.atomic():
            enqueue_batches(issue_id=issue.pk, lanes=lanes)
        requeued += 1
        logger.warning(
            "newsletter lanes queued by the sweeper", extra={"issue_id": issue.pk, "lanes": lanes}
        )
    return {"started": started, "finished": finished, "requeued": requeued}


def _lanes_needed(*, issue_id: int, now: datetime) -> int:
    open_batches = DeliveryBatch.objects.filter(issue_id=issue_id, status=DeliveryBatch.Status.OPEN)
    claimable = open_batches.filter(due_at__lte=now).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    )
    if not claimable.exists():
        return 0
    expired = claimable.filter(leased_until__isnull=False).count()
    if not open_batches.filter(leased_until__gt=now).exists():
        return settings.NEWSLETTER_SEND_LANES
    return min(expired, settings.NEWSLETTER_SEND_LANES)
