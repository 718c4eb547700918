"""Bounce and complaint reports read from mail: applied one by one (handed over by the SMTP
listener), or read from an IMAP mailbox by beat. Thin and idempotent: the services record one
event per issue and kind, so a redelivered task or a report received twice changes nothing
the second time. Transient errors (the database or the mailbox away) are retried by the task
base."""

from __future__ import annotations

from django.conf import settings

from newsletter.bounces.mailbox import mailbox_read
from newsletter.services.bounces import bounce_report_apply
from newsroom.task_base import task


@task(name="newsletter.tasks.record_bounce_report", time_limit=60, soft_time_limit=45)
def record_bounce_report(
    kind: str,
    detail: str,
    delivery_id: int | None = None,
    subscriber_id: int | None = None,
    issue_id: int | None = None,
) -> str:
    return bounce_report_apply(
        kind=kind,
        detail=detail,
        delivery_id=delivery_id,
        subscriber_id=subscriber_id,
        issue_id=issue_id,
    )


@task(name="newsletter.tasks.read_bounce_mailbox", time_limit=240, soft_time_limit=200)
def read_bounce_mailbox() -> int:
    """Beat, every few minutes when BOUNCE_IMAP_URL is set: read and apply what arrived."""
    if not settings.BOUNCE_IMAP_URL:
        return 0
    return mailbox_read(url=settings.BOUNCE_IMAP_URL)
