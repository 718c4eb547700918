"""The send's state machine at issue level: start (claim), finish, the weekly beat, the sweep.

An issue is *claimed* for sending by one conditional UPDATE (scheduled -> sending): two beats,
two clicks or a beat and a click race on it and exactly one wins; the loser changes nothing.
The winner, in the same transaction, gives the issue its web address and creates one Delivery
row per active subscriber in one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`. Batch tasks
are queued on commit; if that enqueue is lost (crash, Redis restart) the sweeper re-queues.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from newsletter.models import Delivery, Issue, NoIssueNotice, Subscriber
from newsroom import mail

logger = logging.getLogger(__name__)

# Issue statuses from which "send now" may start a send.
STARTABLE = (Issue.Status.DRAFT, Issue.Status.SCHEDULED)


def enqueue_batches(*, issue_id: int, lanes: int | None = None) -> None:
    """Queue `lanes` batch tasks for the issue once the current transaction commits."""
    from newsletter.tasks.sending import send_issue_batch

    count = lanes if lanes is not None else settings.NEWSLETTER_SEND_LANES

    def enqueue() -> None:
        for _ in range(max(count, 1)):
            send_issue_batch.delay(issue_id)

    transaction.on_commit(enqueue)


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
    """One queued Delivery per active subscriber, in one set-based statement. Idempotent."""
    delivery = Delivery._meta.db_table
    subscriber = Subscriber._meta.db_table
    sql = (
        f"INSERT INTO {delivery} "  # noqa: S608 - table names from models, values as parameters
        "(created_at, updated_at, issue_id, subscriber_id, status, attempts, error) "
        f"SELECT %s, %s, %s, s.id, %s, 0, '' FROM {subscriber} s WHERE s.status = %s "
        "ORDER BY s.id "
        "ON CONFLICT (issue_id, subscriber_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, issue_id, Delivery.Status.QUEUED, Subscriber.Status.ACTIVE])
        return int(cursor.rowcount)


def issue_start_sending(
    *, issue_id: int, from_statuses: tuple[str, ...] = (Issue.Status.SCHEDULED,)
) -> bool:
    """Claim the issue and queue its deliveries; False (and no change) if another got it first."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Issue.objects.filter(pk=issue_id, status__in=from_statuses).update(
            status=Issue.Status.SENDING, send_started_at=now, progress_at=now, updated_at=now
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
    """sending -> sent once no delivery is queued. Safe to call any number of times."""
    now = timezone.now()
    with transaction.atomic():
        issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
        if issue is None or issue.status != Issue.Status.SENDING:
            return False
        if issue.deliveries.filter(status=Delivery.Status.QUEUED).exists():
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
    """Every minute: start due issues, finish drained ones, re-queue stalled ones.

    A sending issue is stalled when no batch has finished for NEWSLETTER_SWEEP_STALE_SECONDS
    and no batch holds a live lease: its tasks were lost with a killed worker or a restarted
    Redis, or never enqueued. (A slow batch, e.g. under NEWSLETTER_SEND_RATE, holds its lease
    and is left alone, so batch tasks do not pile up.)
    """
    now = now or timezone.now()
    started = len(issue_start_due(now=now))
    finished = requeued = 0
    stale_before = now - timedelta(seconds=settings.NEWSLETTER_SWEEP_STALE_SECONDS)
    for issue in Issue.objects.filter(status=Issue.Status.SENDING).only("pk", "progress_at"):
        if issue_finish_if_done(issue_id=issue.pk):
            finished += 1
            continue
        if issue.progress_at and issue.progress_at > stale_before:
            continue
        if Delivery.objects.filter(
            issue_id=issue.pk, status=Delivery.Status.QUEUED, leased_until__gt=now
        ).exists():
            continue
        with transaction.atomic():
            Issue.objects.filter(pk=issue.pk).update(progress_at=now)
            enqueue_batches(issue_id=issue.pk)
        requeued += 1
        logger.warning("newsletter send re-queued by the sweeper", extra={"issue_id": issue.pk})
    return {"started": started, "finished": finished, "requeued": requeued}
