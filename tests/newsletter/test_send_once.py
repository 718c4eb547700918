"""The send does its work once: the issue is rendered once per send, and a batch task that
arrives again (Redis re-delivery, a duplicated enqueue) after or during the send repeats nothing.
Over a real SMTP server on loopback; tasks run eagerly, on commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Delivery, Issue
from newsletter.rendering import RenderedIssue
from newsletter.sending import claims, lane
from newsletter.services.issues import issue_send_now
from newsletter.tasks.sending import send_issue_batch
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db


def composed_issue() -> Issue:
    issue = IssueFactory.create()
    IssueItemFactory.create_batch(3, issue=issue)
    return issue


@override_settings(NEWSLETTER_BATCH_SIZE=2, NEWSLETTER_SEND_LANES=2)
def test_the_issue_is_rendered_once_for_the_whole_send_not_per_batch_or_recipient(
    smtp_server: SMTPServer,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    SubscriberFactory.create_batch(9)
    issue = composed_issue()
    renders: list[int] = []
    real_render: Callable[[Issue], RenderedIssue] = lane.render_issue

    def counting_render(issue: Issue) -> RenderedIssue:
        renders.append(issue.pk)
        return real_render(issue)

    monkeypatch.setattr(lane, "render_issue", counting_render)
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)

    assert len(smtp_server.messages) == 9  # in five batches of at most two
    assert renders == [issue.pk]


def test_a_batch_task_delivered_again_after_the_send_sends_nothing_more(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create_batch(4)
    issue = composed_issue()
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)
    assert len(smtp_server.messages) == 4

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            send_issue_batch.apply(args=(issue.pk,))

    assert len(smtp_server.messages) == 4
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


@override_settings(NEWSLETTER_BATCH_SIZE=2)
def test_a_duplicate_batch_task_during_the_send_skips_rows_another_batch_holds(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    readers = SubscriberFactory.create_batch(5)
    issue = composed_issue()
    issue_send_now(issue=issue)  # its batch tasks are not run: the test plays the workers
    # Another lane holds the first two rows (its batch is in flight, its lease live).
    lease = claims.claim(issue_id=issue.pk, lease_seconds=600, now=timezone.now())
    assert lease is not None
    held = claims.due_rows(lease, now=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        first: Any = send_issue_batch.apply(args=(issue.pk,))
        again: Any = send_issue_batch.apply(args=(issue.pk,))  # the same message, re-delivered

    held_ids = {row.subscriber_id for row in held}
    expected = sorted(r.email for r in readers if r.pk not in held_ids)
    assert sorted(smtp_server.recipients()) == expected
    assert first.result["sent"] + again.result["sent"] == 3
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.QUEUED).count() == 2
