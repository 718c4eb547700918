"""Apply one bounce or complaint report, handed over by the bounce listener. Thin and
idempotent: the services record one event per issue and kind, so a redelivered task or a
report received twice changes nothing the second time. Transient errors (the database away)
are retried by the task base."""

from __future__ import annotations

import logging

from newsletter.bounces.reports import Kind
from newsletter.models import Delivery
from newsletter.services.bounces import (
    Outcome,
    delivery_bounce_record,
    delivery_complaint_record,
)
from newsroom.task_base import task

logger = logging.getLogger(__name__)


@task(name="newsletter.tasks.record_bounce_report", time_limit=60, soft_time_limit=45)
def record_bounce_report(
    kind: str,
    detail: str,
    delivery_id: int | None = None,
    subscriber_id: int | None = None,
    issue_id: int | None = None,
) -> str:
    """`delivery_id` (from a bounce address), or the subscriber and maybe the issue (from a
    returned message's unsubscribe link)."""
    if delivery_id is not None:
        row = (
            Delivery.objects.filter(pk=delivery_id).values_list("issue_id", "subscriber_id").first()
        )
        if row is None:  # erased, or a cancelled send's row
            return Outcome.UNKNOWN
        issue_id, subscriber_id = row
    if subscriber_id is None:
        return Outcome.UNKNOWN
    if kind == Kind.COMPLAINT:
        return delivery_complaint_record(
            subscriber_id=subscriber_id, issue_id=issue_id, detail=detail
        )
    if kind in (Kind.HARD, Kind.SOFT) and issue_id is not None:
        return delivery_bounce_record(
            issue_id=issue_id, subscriber_id=subscriber_id, hard=kind == Kind.HARD, detail=detail
        )
    logger.info("newsletter.bounce.not_applied", extra={"kind": kind, "issue_id": issue_id})
    return Outcome.UNKNOWN
