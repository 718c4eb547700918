"""Staff's actions on an issue: compose, schedule, send now, pause, resume, cancel, test.

Every state change is a conditional UPDATE on the status it starts from, so two clicks (or a
click racing the beat) cannot both take effect. The send itself is in `services.sends`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from newsletter.models import Delivery, Issue, IssueItem
from newsletter.services.sends import STARTABLE, enqueue_batches, issue_start_sending
from newsroom.errors import ApplicationError

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class IssueStateError(ApplicationError):
    """The action does not fit the issue's current state (the message says why)."""


def issue_default_send_time(*, now: datetime | None = None) -> datetime:
    """The coming NEWSLETTER_SEND_DAY at NEWSLETTER_SEND_TIME in TIME_ZONE (today if ahead)."""
    local_now = timezone.localtime(now or timezone.now())
    weekday = WEEKDAYS.index(settings.NEWSLETTER_SEND_DAY.strip().lower()[:3])
    hour, minute = (int(part) for part in settings.NEWSLETTER_SEND_TIME.split(":"))
    day = local_now.date() + timedelta(days=(weekday - local_now.weekday()) % 7)
    candidate = timezone.make_aware(
        datetime.combine(day, time(hour, minute)), timezone.get_current_timezone()
    )
    if candidate <= local_now:
        candidate = timezone.make_aware(
            datetime.combine(day + timedelta(days=7), time(hour, minute)),
            timezone.get_current_timezone(),
        )
    return candidate


def _transition(*, issue: Issue, from_statuses: Iterable[str], to: str, **fields: object) -> None:
    allowed = list(from_statuses)
    changed = Issue.objects.filter(pk=issue.pk, status__in=allowed).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if not changed:
        issue.refresh_from_db(fields=["status"])
        raise IssueStateError(
            f"This issue is {issue.get_status_display().lower()}; it cannot become {to}."
        )
    issue.refresh_from_db()
    logger.info("newsletter issue state changed", extra={"issue_id": issue.pk, "status": to})


def _require_items(issue: Issue) -> None:
    if not issue.items.exists():
        raise IssueStateError("Add at least one item before scheduling or sending this issue.")


def issue_schedule(*, issue: Issue, send_at: datetime | None = None) -> Issue:
    """draft -> scheduled, for `send_at` or the coming send day at the send time.

    A time already past is refused: the sweeper would start the send within a minute, so a
    mistyped date would mail the whole list at once. "Send now" is the deliberate way to that.
    """
    _require_items(issue)
    when = send_at or issue_default_send_time()
    if when <= timezone.now():
        raise IssueStateError("That time has already passed. Pick a time to come, or use Send now.")
    _transition(
        issue=issue,
        from_statuses=[Issue.Status.DRAFT],
        to=Issue.Status.SCHEDULED,
        scheduled_for=when,
    )
    return issue


def issue_unschedule(*, issue: Issue) -> Issue:
    """scheduled -> draft, to edit it further."""
    _transition(issue=issue, from_statuses=[Issue.Status.SCHEDULED], to=Issue.Status.DRAFT)
    return issue


def issue_send_now(*, issue: Issue) -> Issue:
    """draft or scheduled -> sending, at once."""
    _require_items(issue)
    if not issue_start_sending(issue_id=issue.pk, from_statuses=STARTABLE):
        issue.refresh_from_db()
        raise IssueStateError(f"This issue is {issue.get_status_display().lower()} already.")
    issue.refresh_from_db()
    return issue


def issue_pause(*, issue: Issue) -> Issue:
    """sending -> paused: batches stop claiming; the batch in flight finishes."""
    _transition(issue=issue, from_statuses=[Issue.Status.SENDING], to=Issue.Status.PAUSED)
    return issue


def issue_resume(*, issue: Issue) -> Issue:
    """paused -> sending, and queue the batches again."""
    with transaction.atomic():
        _transition(
            issue=issue,
            from_statuses=[Issue.Status.PAUSED],
            to=Issue.Status.SENDING,
            progress_at=timezone.now(),
        )
        enqueue_batches(issue_id=issue.pk)
    return issue


def issue_cancel(*, issue: Issue) -> Issue:
    """scheduled, sending or paused -> cancelled; deliveries not yet sent are dropped."""
    with transaction.atomic():
        _transition(
            issue=issue,
            from_statuses=[Issue.Status.SCHEDULED, Issue.Status.SENDING, Issue.Status.PAUSED],
            to=Issue.Status.CANCELLED,
        )
        dropped, _ = Delivery.objects.filter(
            issue_id=issue.pk, status=Delivery.Status.QUEUED
        ).delete()
    logger.info("newsletter send cancelled", extra={"issue_id": issue.pk, "dropped": dropped})
    return issue


def issue_send_test(*, issue: Issue, user_id: int, email: str) -> None:
    """Queue a test copy to the staff member; it never touches the delivery ledger."""
    if not email:
        raise IssueStateError("Your staff account has no email address to send a test to.")
    from newsletter.tasks.sending import send_issue_test

    send_issue_test.delay_on_commit(issue.pk, user_id)


@dataclass(frozen=True)
class NewItem:
    section: str
    title: str
    url: str
    summary: str = ""
    image_url: str = ""


def issue_add_items(*, issue: Issue, items: Iterable[NewItem]) -> list[IssueItem]:
    """Append items (e.g. picked from the feed) after the issue's existing ones."""
    if issue.status not in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
        raise IssueStateError("Items can only be added to a draft or scheduled issue.")
    with transaction.atomic():
        last = issue.items.aggregate(last=Max("position"))["last"]
        start = 0 if last is None else last + 1
        rows = [
            IssueItem(
                issue=issue,
                section=item.section,
                title=item.title[:300],
                url=item.url,
                summary=item.summary,
                image_url=item.image_url,
                position=start + index,
            )
            for index, item in enumerate(items)
        ]
        return IssueItem.objects.bulk_create(rows)


@dataclass(frozen=True)
class Progress:
    status: str
    queued: int
    sent: int
    failed: int
    rate: float  # messages per second since the send started
    eta_seconds: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "total": self.queued + self.sent + self.failed,
            "rate": round(self.rate, 1),
            "eta_seconds": self.eta_seconds,
        }


def issue_progress(*, issue: Issue, now: datetime | None = None) -> Progress:
    """Counts by delivery status (one grouped query), the average rate and the time left."""
    counts = dict(
        Delivery.objects.filter(issue_id=issue.pk)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    queued = counts.get(Delivery.Status.QUEUED, 0)
    # A message reported bounced after the server accepted it was sent all the same.
    sent = counts.get(Delivery.Status.SENT, 0) + counts.get(Delivery.Status.BOUNCED, 0)
    end = issue.sent_at or now or timezone.now()
    elapsed = (end - issue.send_started_at).total_seconds() if issue.send_started_at else 0
    rate = sent / elapsed if elapsed > 0 else 0.0
    eta = round(queued / rate) if rate > 0 and queued else None
    return Progress(
        status=issue.status,
        queued=queued,
        sent=sent,
        failed=counts.get(Delivery.Status.FAILED, 0),
        rate=rate,
        eta_seconds=eta,
    )
