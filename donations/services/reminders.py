"""Remind me later: one email when due, then done; readers can opt out from the link. A reader
whose address gave after asking (the donor's stored address, compared normalised) is not
reminded: the reminder is skipped when due. The address is kept only while a reminder is
pending: sending, skipping or opting out forgets it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from donations.links import reminder_stop_link
from donations.models import Reminder
from donations.selectors import normalise_email
from donations.services.emails import send_reminder
from newsroom.errors import InvalidLink
from newsroom.mail_quota import mail_quota_take
from newsroom.task_base import task

logger = logging.getLogger(__name__)


def reminder_delay() -> timedelta:
    return timedelta(days=settings.DONATIONS_REMINDER_DAYS)


def reminder_create(*, email: str, now: datetime | None = None) -> Reminder | None:
    """One pending reminder per address: asking again moves its due date. An address already
    sent its hourly share of requested mail is left as it is (None)."""
    now = now or timezone.now()
    address = normalise_email(email)
    if not mail_quota_take(email=address, purpose="reminder"):
        return None
    pending = Reminder.objects.filter(
        email=address, sent_at=None, opted_out_at=None, skipped_at=None
    ).first()
    if pending is not None:
        pending.asked_at, pending.due_at = now, now + reminder_delay()
        pending.save(update_fields=["asked_at", "due_at", "updated_at"])
        return pending
    reminder = Reminder.objects.create(email=address, asked_at=now, due_at=now + reminder_delay())
    logger.info("reminder stored", extra={"reminder": reminder.pk})
    return reminder


def reminder_for_link(*, token: str) -> Reminder:
    """The reminder a stop link names; `InvalidLink` for a forged, altered or unknown one."""
    reminder = Reminder.objects.filter(pk=reminder_stop_link.read(token)).first()
    if reminder is None:
        raise InvalidLink("This link is not valid.")
    return reminder


def reminder_opt_out(*, token: str) -> None:
    reminder = reminder_for_link(token=token)
    if not reminder.email:
        return  # sent already (its address forgotten): there is nothing left to stop
    Reminder.objects.filter(email=reminder.email, opted_out_at=None).update(
        opted_out_at=timezone.now(), email=""
    )  # the address is no longer needed: forget it


def reminders_queue_due(*, now: datetime | None = None) -> int:
    """Queue a send for every due reminder; each send claims its row, so overlap is harmless."""
    now = now or timezone.now()
    due = list(
        Reminder.objects.filter(
            due_at__lte=now, sent_at=None, opted_out_at=None, skipped_at=None
        ).values_list("pk", flat=True)
    )
    for reminder_id in due:
        send_reminder.delay_on_commit(reminder_id)
    return len(due)


@task(name="donations.tasks.send_due_reminders")
def send_due_reminders() -> int:
    return reminders_queue_due()
