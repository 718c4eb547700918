"""Any ESP by settings alone (django-anymail), and the sweeper covering lost batch tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from anymail.message import AnymailRecipientStatus
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending.messages import MessageFactory
from newsletter.services.issues import issue_send_now
from newsletter.tasks.sending import sweep_deliveries
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def ready_issue() -> Issue:
    issue = IssueFactory.create()
    IssueItemFactory.create(issue=issue)
    return issue


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend", ANYMAIL={})
def test_an_esp_backend_gets_message_objects_and_its_rejections_fail_and_suppress(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create(email="reader@example.org")
    rejected = SubscriberFactory.create(email="rejected@example.org")
    build = MessageFactory.build

    def build_with_esp_verdict(self: MessageFactory, **kwargs: Any) -> Any:
        message = build(self, **kwargs)
        if kwargs["email"] == "rejected@example.org":
            status = AnymailRecipientStatus(message_id=None, status="rejected")
            response = {"recipient_status": {kwargs["email"]: status}}
            setattr(message, "anymail_test_response", response)  # noqa: B010 - anymail test hook
        return message

    monkeypatch.setattr(MessageFactory, "build", build_with_esp_verdict)
    issue = ready_issue()
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)

    accepted = [m for m in mail.outbox if m.to == ["reader@example.org"]]
    assert len(accepted) == 1
    headers = accepted[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://testserver/newsletter/unsubscribe/")
    failed = Delivery.objects.get(issue=issue, subscriber=rejected)
    assert failed.status == Delivery.Status.FAILED
    rejected.refresh_from_db()
    assert rejected.status == Subscriber.Status.BOUNCED
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_batches_never_enqueued_are_sent_by_the_sweeper(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    SubscriberFactory.create_batch(3)
    issue = ready_issue()
    # The commit happens but its on-commit enqueue is lost (a crash, a Redis restart).
    with django_capture_on_commit_callbacks(execute=False):
        issue_send_now(issue=issue)
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        sweep_deliveries()  # progress is recent: the batches may still be on their way
    assert mail.outbox == []

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=3)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_deliveries()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Subscriber.objects.values_list("email", flat=True)
    )
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_the_sweeper_leaves_a_slow_batch_holding_a_live_lease_alone(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from newsletter.sending import claims

    SubscriberFactory.create_batch(4)
    issue = ready_issue()
    with django_capture_on_commit_callbacks(execute=False):
        issue_send_now(issue=issue)
    later = timezone.now() + timedelta(minutes=3)
    # A lane is sending (slowly, e.g. rate-limited): it holds the batch under a live lease.
    assert claims.claim(issue_id=issue.pk, lease_seconds=600, now=later) is not None

    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert sweep_deliveries()["requeued"] == 0
    assert mail.outbox == []

    # The worker died: once its lease has expired the sweeper re-queues, and all four go out.
    with (
        time_machine.travel(later + timedelta(minutes=11)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sweep_deliveries()["requeued"] == 1
    assert len(mail.outbox) == 4
