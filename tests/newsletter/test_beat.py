"""The Friday beat, time-frozen: the due issue starts at the configured time in the zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import override_settings
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Issue, NoIssueNotice
from newsletter.services.issues import issue_schedule
from newsletter.tasks.sending import send_weekly_issue, sweep_deliveries
from newsroom.celery_app import app, weekly_send_schedule
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN)
FRIDAY_SEND_TIME = datetime(2026, 11, 27, 7, 30, 5, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def berlin_newsroom() -> Iterator[None]:
    original = app.conf.timezone
    with override_settings(
        TIME_ZONE="Europe/Berlin",
        NEWSLETTER_SEND_DAY="fri",
        NEWSLETTER_SEND_TIME="07:30",
        STAFF_NOTIFICATION_EMAILS=["editor@news.example.org"],
    ):
        app.conf.update(timezone="Europe/Berlin")
        app.__dict__.pop("timezone", None)
        try:
            yield
        finally:
            app.conf.update(timezone=original)
            app.__dict__.pop("timezone", None)


def staff_notices(smtp_server: SMTPServer) -> list[str]:
    return [
        m.message["Subject"]
        for m in smtp_server.messages
        if "No newsletter" in m.message["Subject"]
    ]


def test_friday_at_the_send_time_in_the_zone_starts_the_scheduled_issue_once(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    readers = SubscriberFactory.create_batch(3)
    issue = IssueFactory.create()
    IssueItemFactory.create(issue=issue)
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        issue_schedule(issue=issue)

    schedule = weekly_send_schedule()
    with time_machine.travel(datetime(2026, 11, 27, 7, 29, tzinfo=BERLIN), tick=False):
        assert not schedule.is_due(datetime(2026, 11, 20, 7, 30, tzinfo=BERLIN))[0]
        assert send_weekly_issue() == "already-sending"  # due later today: no alarm
    assert smtp_server.messages == []

    with time_machine.travel(FRIDAY_SEND_TIME, tick=False):
        assert schedule.is_due(datetime(2026, 11, 20, 7, 30, tzinfo=BERLIN))[0]
        with django_capture_on_commit_callbacks(execute=True):
            assert send_weekly_issue() == "started"
        # Beat fires again (a second beat process, a re-delivered message): nothing more.
        with django_capture_on_commit_callbacks(execute=True):
            assert send_weekly_issue() == "already-sending"
            sweep_deliveries()

    assert sorted(smtp_server.recipients()) == sorted(r.email for r in readers)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert issue.web_slug == "2026-11-27"
    assert staff_notices(smtp_server) == []


def test_no_issue_ready_sends_nothing_and_tells_staff_once(smtp_server: SMTPServer) -> None:
    SubscriberFactory.create_batch(2)
    IssueFactory.create()  # a draft is not ready

    with time_machine.travel(FRIDAY_SEND_TIME, tick=False):
        assert send_weekly_issue() == "notified"
        assert send_weekly_issue() == "already-notified"

    [notice] = smtp_server.messages
    assert notice.rcpt_tos == ["editor@news.example.org"]
    assert notice.message["Subject"] == "No newsletter issue is ready for Friday 27 November"
    assert list(NoIssueNotice.objects.values_list("send_day", flat=True)) == [date(2026, 11, 27)]


@override_settings(STAFF_NOTIFICATION_EMAILS=[])
def test_without_a_notification_list_the_staff_users_are_told(smtp_server: SMTPServer) -> None:
    get_user_model().objects.create_user("ed", email="ed@news.example.org", is_staff=True)
    get_user_model().objects.create_user("reader", email="reader@example.org")

    with time_machine.travel(FRIDAY_SEND_TIME, tick=False):
        send_weekly_issue()

    assert smtp_server.recipients() == ["ed@news.example.org"]
