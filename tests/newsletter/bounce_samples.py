"""Sent deliveries, the bounce samples of tests/fixtures/bounces filled in for them, and a
real SMTP conversation with the bounce listener."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from newsletter.bounces.listener import BounceHandler, BounceListener
from newsletter.bounces.verp import return_path
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending.messages import message_id
from newsletter.tokens import unsubscribe_url
from newsroom.mail_domain import site_domain
from tests.newsletter.factories import IssueFactory, SubscriberFactory

BOUNCE_DOMAIN = "bounces.example.org"
FEEDBACK_ADDRESS = f"bounces@{BOUNCE_DOMAIN}"
SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"


@dataclass
class Sent:
    issue: Issue
    subscriber: Subscriber

    @property
    def verp(self) -> str:
        address = return_path(self.delivery().pk)
        assert address is not None
        return address

    def delivery(self) -> Delivery:
        return Delivery.objects.get(issue=self.issue, subscriber=self.subscriber)


def sent_delivery(subscriber: Subscriber | None = None, *, sent_at: datetime | None = None) -> Sent:
    """An issue sent to a subscriber: the delivery row as the send leaves it."""
    subscriber = subscriber or SubscriberFactory.create()
    sent_at = sent_at or timezone.now() - timedelta(hours=1)
    issue = IssueFactory.create(sent=True, sent_at=sent_at)
    Delivery.objects.create(
        issue=issue, subscriber=subscriber, status=Delivery.Status.SENT, sent_at=sent_at
    )
    return Sent(issue=issue, subscriber=subscriber)


def sample(name: str, sent: Sent) -> bytes:
    link = unsubscribe_url(sent.subscriber.pk)
    values = {
        "@@VERP@@": sent.verp,
        "@@MESSAGE_ID@@": message_id(
            issue_id=sent.issue.pk, subscriber_id=sent.subscriber.pk, domain=site_domain()
        ),
        "@@UNSUBSCRIBE_URL@@": link,
        "@@UNSUBSCRIBE_TOKEN@@": link.rstrip("/").rsplit("/", 1)[-1],
    }
    text = (SAMPLES / name).read_text()
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    assert "@@" not in text
    return text.replace("\n", "\r\n").encode()  # on the wire, lines end in CRLF


def deliver(listener: BounceListener, data: bytes, *, to: str) -> None:
    """Hand a report to the listener as the MX would: null sender, one recipient."""
    deliver_to_port(listener.bound_port, data, to=to)


def deliver_to_port(port: int, data: bytes, *, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=15) as client:
        client.sendmail("", [to], data)


def start_listener(handler: BounceHandler | None = None) -> BounceListener:
    listener = BounceListener("127.0.0.1", 0, handler)
    listener.start()
    return listener


@pytest.fixture
def bounce_listener() -> Iterator[BounceListener]:
    """The listener on a free loopback port; tasks run inline (eager) in its worker thread."""
    with override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN, BOUNCE_MAX_BYTES=512 * 1024):
        listener = start_listener()
        try:
            yield listener
        finally:
            listener.stop()
