"""Every email's Message-ID and our EHLO name the site's domain (SITE_URL), never the machine."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.services.issues import issue_send_now, issue_send_test
from newsletter.tasks.sending import send_weekly_issue
from tests.donations.factories import DonorFactory
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db

MACHINE = "worker-7.internal.example"
FRIDAY_SEND_TIME = datetime(2026, 11, 27, 7, 0, 5, tzinfo=UTC)


@pytest.fixture
def machine_named_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own name, which must reach no recipient."""
    monkeypatch.setattr(socket, "getfqdn", lambda name="": MACHINE)
    cache.clear()


@override_settings(
    SITE_URL="https://news.example.org",
    STAFF_NOTIFICATION_EMAILS=["editor@news.example.org"],
    NEWSLETTER_SEND_DAY="fri",
    NEWSLETTER_SEND_TIME="07:00",
    TIME_ZONE="UTC",
)
@pytest.mark.usefixtures("machine_named_otherwise")
def test_every_kind_of_email_names_the_site_domain_in_its_message_id(
    client: Client, smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    DonorFactory(email="giver@example.org")
    SubscriberFactory.create(email="reader@example.org")
    issue = IssueFactory.create(subject="This week")
    IssueItemFactory.create(issue=issue, title="A story")
    editor: Any = get_user_model().objects.create_user(
        "editor", "editor@example.org", "x", is_staff=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/manage/", {"email": "giver@example.org"})  # manage link
        client.post("/newsletter/", {"email": "new@example.org", "consent": "on"})  # confirm
        issue_send_test(issue=issue, user_id=editor.pk, email=editor.email)  # staff test copy
    with time_machine.travel(FRIDAY_SEND_TIME, tick=False):
        assert send_weekly_issue() == "notified"  # staff notice: nothing scheduled
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)  # the issue itself, through the prebuilt SMTP path

    received = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert sorted(received) == [
        "editor@example.org", "editor@news.example.org", "giver@example.org",
        "new@example.org", "reader@example.org",
    ]  # fmt: skip
    # The name our client greets servers with (written into their Received header) too.
    assert {m.helo for m in smtp_server.messages} == {"news.example.org"}
    for address, message in received.items():
        assert re.fullmatch(
            r"<[^@<>\s]+@news\.example\.org>", str(message["Message-ID"]).strip()
        ), address
        assert MACHINE not in message.as_string(), address
