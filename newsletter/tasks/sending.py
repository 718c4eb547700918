"""The send's tasks: the Friday beat, the batch sender, the sweeper and the staff test copy.

Thin and idempotent: they take ids, call services, and may run twice or concurrently without
harm, because every state change is claimed in the database (see `services.sends` and
`sending.batch`). Correctness never depends on a task message arriving exactly once.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse

from newsletter.models import Issue
from newsletter.rendering import render_issue
from newsletter.sending import TransientSendError, send_batch
from newsletter.sending.messages import MessageFactory
from newsletter.services.sends import issue_finish_if_done, sweep, weekly_send
from newsroom import mail
from newsroom.task_base import task

logger = logging.getLogger(__name__)

# A batch stops sending at half the lease; the hard limit still ends it before the lease does,
# so no live worker ever holds rows that another may claim.
_LEASE = settings.NEWSLETTER_LEASE_SECONDS
# Retries of an unreachable mail server wait at most this long; far below the broker's
# visibility timeout, so a delayed task is never redelivered early.
MAX_COUNTDOWN = 300


@task(name="newsletter.tasks.send_weekly_issue", soft_time_limit=100, time_limit=120)
def send_weekly_issue() -> str:
    """Beat, every send day at the send time: start the due issue or tell staff none is ready."""
    return weekly_send()


@shared_task(
    name="newsletter.tasks.send_issue_batch",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=max(int(_LEASE * 0.6), 1),
    time_limit=max(int(_LEASE * 0.8), 2),
    max_retries=10,
)
def send_issue_batch(self: Task, issue_id: int) -> dict[str, int]:
    """Send one batch of the issue, then queue the next one (or finish the issue)."""
    try:
        result = send_batch(issue_id=issue_id)
    except TransientSendError as error:
        countdown = min(15 * 2**self.request.retries, MAX_COUNTDOWN)
        logger.warning(
            "newsletter batch could not reach the mail server; retrying",
            extra={"issue_id": issue_id, "countdown": countdown},
        )
        raise self.retry(countdown=countdown) from error
    if result.full:
        transaction.on_commit(lambda: send_issue_batch.delay(issue_id))
    elif not result.stopped:
        # Rows still queued are leased by another batch or waiting for a retry: that batch,
        # or the sweeper once they are due, sends them. Otherwise the issue is done.
        issue_finish_if_done(issue_id=issue_id)
    return {"claimed": result.claimed, "sent": result.sent, "failed": result.failed}


@shared_task(name="newsletter.tasks.sweep_deliveries", soft_time_limit=100, time_limit=120)
def sweep_deliveries() -> dict[str, int]:
    """Beat, every minute: start due issues, finish drained ones, re-queue stalled sends."""
    return sweep()


@task(name="newsletter.tasks.send_issue_test", soft_time_limit=50, time_limit=60)
def send_issue_test(issue_id: int, user_id: int) -> bool:
    """A test copy to a staff member; marked as a test, never in the delivery ledger."""
    issue = Issue.objects.filter(pk=issue_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_staff=True).first()
    if issue is None or user is None or not user.email:
        return False
    connection = get_connection()
    # Rendered afresh: a draft changes between test copies (items picked from the feed do not
    # touch the issue row), so the send's per-process rendering cache would show an old one.
    factory = MessageFactory(issue=issue, rendered=render_issue(issue), connection=connection)
    signup = settings.SITE_URL + reverse("newsletter:signup")
    mail.send(factory.build_test(email=user.email, unsubscribe_link=signup))
    logger.info("newsletter test copy sent", extra={"issue_id": issue_id, "user_id": user_id})
    return True
