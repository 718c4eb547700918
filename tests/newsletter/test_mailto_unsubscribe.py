"""The List-Unsubscribe mailto works: mail to it (through an ESP's inbound webhook, here
Postmark's, by anymail) unsubscribes the subscriber its signed token names, and nobody else."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Subscriber, SubscriberEvent
from newsletter.services.issues import issue_send_now
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]

SECRET = "newsroom:webhook-secret-123"
INBOUND = override_settings(
    ANYMAIL={"POSTMARK_SERVER_TOKEN": "server-token", "WEBHOOK_SECRET": SECRET},
    DEFAULT_FROM_EMAIL="news@news.example.org",
)


def inbound_mail(*, sender: str, subject: str) -> Any:
    """Postmark's inbound webhook body (the parsed form, as in its documentation)."""
    payload = {
        "FromFull": {"Email": sender, "Name": ""},
        "ToFull": [{"Email": "news@news.example.org", "Name": ""}],
        "Subject": subject,
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "TextBody": "",
        "Headers": [],
    }
    auth = base64.b64encode(SECRET.encode()).decode()
    return Client().post(
        "/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def mailto_subjects(smtp_server: SMTPServer) -> dict[str, str]:
    """Each recipient's List-Unsubscribe mailto: its address and its (decoded) subject."""
    subjects = {}
    for received in smtp_server.messages:
        header = str(received.message["List-Unsubscribe"])
        match = re.search(r"<mailto:([^>]+)>", header)
        assert match is not None, header
        mailto = urlsplit("mailto:" + match.group(1))
        assert mailto.path == "news@news.example.org"
        subjects[received.rcpt_tos[0]] = parse_qs(mailto.query)["subject"][0]
    return subjects


@INBOUND
def test_mail_to_the_list_unsubscribe_address_unsubscribes_that_subscriber_only(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    leaving = SubscriberFactory.create(email="leaving@example.org")
    staying = SubscriberFactory.create(email="staying@example.org")
    issue = IssueFactory.create()
    IssueItemFactory.create(issue=issue)
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)
    subject = mailto_subjects(smtp_server)["leaving@example.org"]
    assert subject.startswith("unsubscribe ")

    # Sent from another address (a forwarding alias, say): the token decides, not the sender.
    assert inbound_mail(sender="alias@example.net", subject=subject).status_code == 200
    assert inbound_mail(sender="alias@example.net", subject=f"Re: {subject}").status_code == 200

    leaving.refresh_from_db()
    staying.refresh_from_db()
    assert leaving.status == Subscriber.Status.UNSUBSCRIBED
    assert leaving.unsubscribed_at is not None
    assert staying.status == Subscriber.Status.ACTIVE
    assert list(leaving.events.values_list("kind", "source", "issue_id")) == [
        (SubscriberEvent.Kind.UNSUBSCRIBE, SubscriberEvent.Source.MAILTO, issue.pk)
    ]


@INBOUND
@pytest.mark.parametrize(
    "subject",
    ["unsubscribe", "unsubscribe 1:forged-signature", "Question about your story", ""],
)
def test_inbound_mail_without_a_valid_token_changes_nothing(subject: str) -> None:
    subscriber = SubscriberFactory.create(email="reader@example.org")
    assert inbound_mail(sender="reader@example.org", subject=subject).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
