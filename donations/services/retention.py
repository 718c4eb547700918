"""Retention: personal data kept only as long as settings say, enforced by a daily beat task
(`donations.tasks.enforce_retention`); the privacy page states the same settings.

- A donor's name: `DONATIONS_NAME_RETENTION_DAYS` after their last gift, unless a recurring
  gift is still active (receipts and statements print it while it may be needed).
- The page a gift was given on: `DONATIONS_SOURCE_PAGE_RETENTION_DAYS` after the gift.
- A "remind me later" address: `DONATIONS_REMINDER_RETENTION_DAYS` after the reminder was due
  (one sent or stopped forgets it at once; one that could not be sent by then is dropped).

Each rule is one UPDATE or DELETE, so running it twice (a second beat) does no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from donations.models import Donation, Donor, Reminder
from donations.selectors import ACTIVE_RECURRING
from newsroom.task_base import task

logger = logging.getLogger(__name__)


def _days(days: int) -> timedelta:
    return timedelta(days=days)


def retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    names_before = now - _days(settings.DONATIONS_NAME_RETENTION_DAYS)
    stale_names = (
        Donor.objects.exclude(name="")
        .exclude(recurring__status__in=ACTIVE_RECURRING)
        .annotate(last_gift=Max("donations__created_at"))
        .filter(Q(last_gift__lt=names_before) | Q(last_gift=None, created_at__lt=names_before))
    )
    names = Donor.objects.filter(pk__in=stale_names.values("pk")).update(name="", updated_at=now)
    pages_before = now - _days(settings.DONATIONS_SOURCE_PAGE_RETENTION_DAYS)
    pages = (
        Donation.objects.exclude(source_page="")
        .filter(created_at__lt=pages_before)
        .update(source_page="", updated_at=now)
    )
    reminders_before = now - _days(settings.DONATIONS_REMINDER_RETENTION_DAYS)
    reminders, _ = Reminder.objects.filter(due_at__lt=reminders_before).delete()
    counts = {"names": names, "source_pages": pages, "reminders": reminders}
    logger.info("retention enforced", extra=counts)
    return counts


@task(name="donations.tasks.enforce_retention")
def enforce_retention() -> dict[str, int]:
    return retention_enforce()
