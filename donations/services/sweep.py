"""Re-queue emails whose task was lost (a crash between commit and enqueue, a Redis restart).
Each email is claimed in the database when sent, so re-queuing one already sent does nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from donations.models import Donation, FailedPayment, RecurringChange
from donations.services.emails import (
    send_dispute_notice,
    send_past_due_notice,
    send_receipt,
    send_recurring_change_notice,
)
from newsroom.task_base import task

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=10)  # the normal on-commit task has had its chance
GIVE_UP = timedelta(days=3)  # a receipt weeks late is worse than none


def unsent_emails_requeue(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    window = {"updated_at__lte": now - GRACE, "updated_at__gte": now - GIVE_UP}
    receipts = list(
        Donation.objects.filter(
            status=Donation.Status.PAID, receipt_sent_at=None, donor__isnull=False, **window
        ).values_list("pk", flat=True)[:1000]
    )
    notices = list(
        FailedPayment.objects.filter(notice_sent_at=None, **window).values_list("pk", flat=True)[
            :1000
        ]
    )
    disputes = (
        list(
            Donation.objects.filter(
                status=Donation.Status.DISPUTED, dispute_notice_sent_at=None, **window
            ).values_list("pk", flat=True)[:1000]
        )
        if settings.STAFF_NOTIFICATION_EMAILS  # nobody to tell: nothing to re-queue
        else []
    )
    changes = list(
        RecurringChange.objects.filter(
            notice_sent_at=None, recurring__donor__email__isnull=False, **window
        ).values_list("pk", flat=True)[:1000]
    )
    for change_id in changes:
        send_recurring_change_notice.delay_on_commit(change_id)
    for donation_id in receipts:
        send_receipt.delay_on_commit(donation_id)
    for failure_id in notices:
        send_past_due_notice.delay_on_commit(failure_id)
    for donation_id in disputes:
        send_dispute_notice.delay_on_commit(donation_id)
    counts = {
        "receipts": len(receipts),
        "notices": len(notices),
        "disputes": len(disputes),
        "changes": len(changes),
    }
    if any(counts.values()):
        logger.warning("re-queued unsent emails", extra=counts)
    return sum(counts.values())


@task(name="donations.tasks.sweep_unsent_emails")
def sweep_unsent_emails() -> int:
    return unsent_emails_requeue()
