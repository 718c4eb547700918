"""Apply one bounce or complaint report, handed over by the bounce listener. Thin and
idempotent: the services record one event per issue and kind, so a redelivered task or a
report received twice changes nothing the second time."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from newsletter.bounces.reports import Kind
from newsletter.services.bounces import delivery_bounce_record, delivery_complaint_record

logger = logging.getLogger(__name__)


@shared_task(
    name="newsletter.tasks.record_bounce_report",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
    time_limit=60,
    soft_time_limit=45,
)
def record_bounce_report(kind: str, subscriber_id: int, issue_id: int | None, detail: str) -> str:
    if kind == Kind.COMPLAINT:
        return delivery_complaint_record(
            subscriber_id=subscriber_id, issue_id=issue_id, detail=detail
        )
    if kind in (Kind.HARD, Kind.SOFT) and issue_id is not None:
        return delivery_bounce_record(
            issue_id=issue_id, subscriber_id=subscriber_id, hard=kind == Kind.HARD, detail=detail
        )
    logger.info("newsletter.bounce.not_applied", extra={"kind": kind, "issue_id": issue_id})
    return "not_applied"
