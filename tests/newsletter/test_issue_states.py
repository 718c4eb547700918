"""The issue's state machine: schedule, start (claimed once), pause, resume, cancel, finish."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Delivery, Issue
from newsletter.sending import send_batch
from newsletter.services.issues import (
    IssueStateError,
    issue_cancel,
    issue_default_send_time,
    issue_pause,
    issue_progress,
    issue_resume,
    issue_schedule,
    issue_send_now,
)
from newsletter.services.sends import deliveries_create, issue_start_sending
from newsletter.tasks.sending import sweep_deliveries
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def ready_issue(**fields: object) -> Issue:
    issue = IssueFactory.create(**fields)
    IssueItemFactory.create(issue=issue)
    return issue


@override_settings(
    TIME_ZONE="Europe/Berlin", NEWSLETTER_SEND_DAY="fri", NEWSLETTER_SEND_TIME="07:30"
)
def test_scheduling_defaults_to_the_coming_send_day_at_the_send_time_in_the_zone() -> None:
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN), tick=False):
        assert issue_default_send_time() == datetime(2026, 11, 27, 7, 30, tzinfo=BERLIN)
        issue = issue_schedule(issue=ready_issue())
    assert issue.status == Issue.Status.SCHEDULED
    assert issue.scheduled_for == datetime(2026, 11, 27, 7, 30, tzinfo=BERLIN)
    # On the send day after the send time, the next one is a week later.
    with time_machine.travel(datetime(2026, 11, 27, 8, 0, tzinfo=BERLIN), tick=False):
        assert issue_default_send_time() == datetime(2026, 12, 4, 7, 30, tzinfo=BERLIN)


def test_a_send_time_already_past_is_refused_and_the_issue_stays_a_draft(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    SubscriberFactory.create()
    issue = ready_issue()
    with pytest.raises(IssueStateError, match="already passed"):
        issue_schedule(issue=issue, send_at=datetime(2026, 1, 2, 7, 30, tzinfo=BERLIN))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deliveries()  # what beat runs every minute: nothing to start
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT
    assert issue.scheduled_for is None
    assert not Delivery.objects.exists()


def test_an_issue_without_items_cannot_be_scheduled_or_sent() -> None:
    issue = IssueFactory.create()
    with pytest.raises(IssueStateError, match="at least one item"):
        issue_schedule(issue=issue)
    with pytest.raises(IssueStateError):
        issue_send_now(issue=issue)


def test_delivery_rows_are_created_in_one_statement_for_active_subscribers_only() -> None:
    active = SubscriberFactory.create_batch(25)
    SubscriberFactory.create(status="pending")
    SubscriberFactory.create(status="unsubscribed")
    issue = ready_issue()

    with CaptureQueriesContext(connection) as queries:
        created = deliveries_create(issue_id=issue.pk, now=timezone.now())

    assert created == 25
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith("INSERT INTO")
    assert set(Delivery.objects.values_list("subscriber_id", flat=True)) == {s.pk for s in active}
    # Running it again adds nothing: the unique (issue, subscriber) constraint holds.
    assert deliveries_create(issue_id=issue.pk, now=timezone.now()) == 0


@override_settings(TIME_ZONE="Europe/Berlin")
def test_starting_is_claimed_once_and_names_the_web_version_after_the_send_date() -> None:
    SubscriberFactory.create_batch(3)
    earlier = ready_issue(web_slug="2026-11-27")
    issue = ready_issue(status=Issue.Status.SCHEDULED, scheduled_for=timezone.now())

    # 23:30 UTC on Thursday is already Friday in Berlin.
    with time_machine.travel(datetime(2026, 11, 26, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert issue_start_sending(issue_id=issue.pk) is True
        assert issue_start_sending(issue_id=issue.pk) is False

    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING
    assert issue.web_slug == "2026-11-27-2"
    assert earlier.web_slug == "2026-11-27"
    assert issue.send_started_at == datetime(2026, 11, 26, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert Delivery.objects.filter(issue=issue).count() == 3


def test_a_paused_send_sends_nothing_until_resumed(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create_batch(4)
    issue = ready_issue()
    issue_send_now(issue=issue)  # its batch tasks would run on commit; none has run yet
    issue_pause(issue=issue)

    assert send_batch(issue_id=issue.pk).stopped
    assert smtp_server.messages == []
    assert issue_progress(issue=issue).queued == 4
    with pytest.raises(IssueStateError):
        issue_pause(issue=issue)

    with django_capture_on_commit_callbacks(execute=True):
        issue_resume(issue=issue)

    assert len(smtp_server.messages) == 4
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    progress = issue_progress(issue=issue)
    assert (progress.queued, progress.sent, progress.failed) == (0, 4, 0)


def test_a_cancelled_send_drops_what_is_not_sent_and_keeps_what_is(
    smtp_server: SMTPServer,
) -> None:
    SubscriberFactory.create_batch(5)
    issue = ready_issue()
    issue_send_now(issue=issue)
    assert send_batch(issue_id=issue.pk, batch_size=2).sent == 2

    issue_cancel(issue=issue)

    assert send_batch(issue_id=issue.pk).stopped
    assert len(smtp_server.messages) == 2
    assert (
        list(Delivery.objects.filter(issue=issue).values_list("status", flat=True))
        == [Delivery.Status.SENT] * 2
    )
    issue.refresh_from_db()
    assert issue.status == Issue.Status.CANCELLED
    with pytest.raises(IssueStateError):
        issue_resume(issue=issue)
    with pytest.raises(IssueStateError):
        issue_send_now(issue=issue)


def test_a_subscriber_who_leaves_during_the_send_is_skipped(smtp_server: SMTPServer) -> None:
    stays, leaves = SubscriberFactory.create_batch(2)
    issue = ready_issue()
    issue_send_now(issue=issue)
    leaves.status = "unsubscribed"
    leaves.save(update_fields=["status"])

    result = send_batch(issue_id=issue.pk)

    assert (result.sent, result.skipped) == (1, 1)
    assert smtp_server.recipients() == [stays.email]


@pytest.mark.parametrize("stop", [issue_pause, issue_cancel])
def test_pausing_or_cancelling_stops_a_batch_in_flight_after_the_current_message(
    smtp_server: SMTPServer, monkeypatch: pytest.MonkeyPatch, stop: Any
) -> None:
    from newsletter.sending import claims

    SubscriberFactory.create_batch(5)
    issue = ready_issue()
    issue_send_now(issue=issue)
    real_mark_sent = claims.mark_sent
    marks = []

    def mark_then_staff_click(**kwargs: Any) -> str | None:
        marks.append(kwargs["delivery_id"])
        if len(marks) == 2:  # staff press the button while the second message is on the wire
            stop(issue=Issue.objects.get(pk=issue.pk))
        return real_mark_sent(**kwargs)

    monkeypatch.setattr(claims, "mark_sent", mark_then_staff_click)
    result = send_batch(issue_id=issue.pk)

    assert (result.sent, result.stopped) == (2, True)
    assert len(smtp_server.messages) == 2
    left = Delivery.objects.filter(issue=issue, status=Delivery.Status.QUEUED)
    assert not left.filter(claim__isnull=False).exists()  # handed back, not leased
    assert left.count() == (3 if stop is issue_pause else 0)
