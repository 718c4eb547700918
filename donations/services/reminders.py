"""Remind me later: one email when due, then done; readers can opt out from the link. The
address is kept only while a reminder is pending: sending or opting out forgets it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from donations.models import Reminder
from donations.selectors import normalise_email
from donations.services.errors import DonationError
from newsroom.mail_quota import mail_quota_take

logger = logging.getLogger(__name__)

OPT_OUT_SALT = "donations.reminder-opt-out"


def reminder_delay() -> timedelta:
    return timedelta(days=int(getattr(settings, "DONATIONS_REMINDER_DAYS", 30)))


def reminder_create(*, email: str, now: datetime | None = None) -> Reminder | None:
    """One pending reminder per address: asking again moves its due date. An address already
    sent its hourly share of requested mail is left as it is (None)."""
    now = now or timezone.now()
    address = normalise_email(email)
    if not mail_quota_take(email=address, purpose="reminder"):
        return None
    pending = Reminder.objects.filter(email=address, sent_at=None, opted_out_at=None).first()
    if pending is not None:
        pending.due_at = now + reminder_delay()
        pending.save(update_fields=["due_at", "updated_at"])
        return pending
    reminder = Reminder.objects.create(email=address, due_at=now + reminder_delay())
    logger.info("reminder stored", extra={"reminder": reminder.pk})
    return reminder


def reminder_opt_out_url(*, reminder: Reminder) -> str:
    token = signing.dumps({"reminder": reminder.pk}, salt=OPT_OUT_SALT)
    return settings.SITE_URL + reverse("donations:reminder_opt_out", kwargs={"token": token})


def reminder_opt_out(*, token: str) -> None:
    try:
        data = signing.loads(token, salt=OPT_OUT_SALT)
        reminder = Reminder.objects.get(pk=int(data["reminder"]))
    except (signing.BadSignature, Reminder.DoesNotExist, KeyError, TypeError, ValueError) as err:
        raise DonationError("This link is not valid.") from err
    if not reminder.email:
        return  # sent already (its address forgotten): there is nothing left to stop
    Reminder.objects.filter(email=reminder.email, opted_out_at=None).update(
        opted_out_at=timezone.now(), email=""
    )  # the address is no longer needed: forget it


def reminders_queue_due(*, now: datetime | None = None) -> int:
    """Queue a send for every due reminder; each send claims its row, so overlap is harmless."""
    from donations.tasks import send_reminder

    now = now or timezone.now()
    due = list(
        Reminder.objects.filter(due_at__lte=now, sent_at=None, opted_out_at=None).values_list(
            "pk", flat=True
        )
    )
    for reminder_id in due:
        transaction.on_commit(lambda rid=reminder_id: send_reminder.delay(rid))  # type: ignore[misc]
    return len(due)
