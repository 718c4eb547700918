"""No subscriber address, client IP or personal token reaches a log line, even at DEBUG.

The whole life of a subscriber runs here: sign-up, confirmation, an issue sent over real SMTP
with a 4xx retry and a hard bounce, a provider's complaint webhook, a one-click unsubscribe and
erasure. Every log record of the project, Django and Celery is checked, message and `extra=`
fields alike. (aiosmtpd, the test's own mail server, logs what it receives: it is left out.)
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Subscriber
from newsletter.services.issues import issue_send_now
from newsletter.services.subscriber_data import subscriber_erase
from newsletter.tasks.sending import sweep_deliveries
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]

READER = "private.reader@example.org"
BUSY = "busy.reader@example.org"
GONE = "gone.reader@example.org"
COMPLAINER = "angry.reader@example.org"
READER_IP = "203.0.113.77"
SECRET = "newsroom:webhook-secret-123"
LINK = re.compile(r"https?://[^\s\"<>]+/newsletter/(?:confirm|unsubscribe)/[^\s\"<>]+/")


def logged_text(records: list[logging.LogRecord]) -> str:
    """Every record's message and every attribute it carries (the `extra=` fields)."""
    return "\n".join(
        f"{record.getMessage()} {record.__dict__!r}"
        for record in records
        if not record.name.startswith("mail.log")  # aiosmtpd, the test's mail server
    )


@override_settings(
    SITE_URL="http://testserver",
    ANYMAIL={"POSTMARK_SERVER_TOKEN": "server-token", "WEBHOOK_SECRET": SECRET},
)
def test_no_address_ip_or_personal_link_reaches_the_logs_even_at_debug(
    smtp_server: SMTPServer,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(REMOTE_ADDR=READER_IP)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/newsletter/",
            {"email": READER, "consent": "on", "source": "/", "website": ""},
        )
    body = smtp_server.messages[-1].message.get_body(preferencelist=("plain",))
    assert body is not None
    confirm = LINK.search(body.get_content())
    assert confirm is not None
    client.post(confirm.group(0).removeprefix("http://testserver"))
    assert Subscriber.objects.get(email=READER).status == Subscriber.Status.ACTIVE

    for email in (BUSY, GONE, COMPLAINER):
        SubscriberFactory.create(email=email)
    smtp_server.handler.rcpt_reply = lambda address: {
        BUSY: "451 4.3.0 <busy.reader@example.org> greylisted, try later",
        GONE: "550 5.1.1 <gone.reader@example.org>: no such user",
    }.get(address)
    issue = IssueFactory.create()
    IssueItemFactory.create(issue=issue)
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)
    smtp_server.handler.rcpt_reply = None
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_deliveries()
    received = {m.rcpt_tos[0]: m.message for m in smtp_server.messages[1:]}
    assert set(received) == {READER, BUSY, COMPLAINER}

    auth = base64.b64encode(SECRET.encode()).decode()
    complaint = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "TypeCode": 512,
                 "ID": 1, "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
                 "Email": COMPLAINER, "BouncedAt": "2026-11-27T07:03:54Z"}  # fmt: skip
    answer = Client(REMOTE_ADDR=READER_IP).post(
        "/anymail/postmark/tracking/",
        json.dumps(complaint),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )
    assert answer.status_code == 200

    unsubscribe = LINK.search(str(received[READER]["List-Unsubscribe"]))
    assert unsubscribe is not None
    one_click = Client(REMOTE_ADDR=READER_IP, enforce_csrf_checks=True).post(
        unsubscribe.group(0).removeprefix("http://testserver"),
        {"List-Unsubscribe": "One-Click"},
    )
    assert one_click.status_code == 200
    subscriber_erase(subscriber_id=Subscriber.objects.get(email=BUSY).pk)

    statuses = dict(Subscriber.objects.values_list("email", "status"))
    assert statuses == {READER: "unsubscribed", GONE: "bounced", COMPLAINER: "complained"}
    logged = logged_text(caplog.records)
    assert "newsletter batch sent" in logged  # the logs do speak
    for secret in (READER, BUSY, GONE, COMPLAINER, READER_IP, confirm.group(0)):
        assert secret not in logged
    assert unsubscribe.group(0).rstrip("/").rsplit("/", 1)[-1] not in logged
