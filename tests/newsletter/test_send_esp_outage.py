"""An ESP outage (its API answers 503, 429 or not at all) ends the batch: the message being
sent is deferred like any temporary error, the rest of the batch goes back uncharged and the
task retries with backoff, so a long outage costs each retry one attempt, not one per row. A
message the ESP always refuses with a 5xx still fails after the last attempt: it cannot stall
the send.

A real anymail backend (Postmark's) posts to an HTTP server on loopback standing in for the
ESP's API.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from newsletter.models import Delivery, Issue
from newsletter.sending import TransientSendError, send_batch
from newsletter.services.sends import issue_start_sending
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


class FakeESP(BaseHTTPRequestHandler):
    """Postmark's /email endpoint: answers `server.status` (200 with its success body)."""

    def do_POST(self) -> None:
        server: Any = self.server
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length))
        server.requests.append(payload["To"])
        body: dict[str, Any] = {"ErrorCode": 100, "Message": "Service unavailable"}
        status = 500 if payload["To"] in server.broken_for else server.status
        if status == 200:
            body = {"To": payload["To"], "MessageID": "id", "ErrorCode": 0, "Message": "OK"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def esp() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), FakeESP)
    server.requests, server.status, server.broken_for = [], 503, set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    with override_settings(
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL={"POSTMARK_SERVER_TOKEN": "token", "POSTMARK_API_URL": f"http://127.0.0.1:{port}/"},
    ):
        yield server
    server.shutdown()
    server.server_close()


def sending_issue(readers: int) -> Issue:
    SubscriberFactory.create_batch(readers)
    issue = IssueFactory.create(status=Issue.Status.SCHEDULED)
    IssueItemFactory.create(issue=issue)
    assert issue_start_sending(issue_id=issue.pk)  # its batch tasks are not run: we play them
    return issue


@pytest.mark.parametrize("status", [503, 429])
def test_an_esp_answering_5xx_or_429_ends_the_batch_charging_one_row_and_all_arrive_later(
    esp: Any, status: int
) -> None:
    esp.status = status
    issue = sending_issue(4)

    with pytest.raises(TransientSendError):
        send_batch(issue_id=issue.pk)

    assert len(esp.requests) == 1  # the batch stopped at the first answer
    rows = Delivery.objects.filter(issue=issue).order_by("id")
    assert [(d.status, d.attempts, d.claim) for d in rows] == [("queued", 1, None)] + [
        ("queued", 0, None)
    ] * 3
    assert rows[0].next_attempt_at is not None

    esp.status = 200
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        result = send_batch(issue_id=issue.pk)
    assert result.sent == 4
    sent = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    assert sorted(esp.requests[1:]) == sorted(d.subscriber.email for d in sent)
    assert sent.count() == 4


def test_an_esp_that_cannot_be_reached_ends_the_batch_the_same_way(esp: Any) -> None:
    issue = sending_issue(3)
    esp.shutdown()
    esp.server_close()  # nothing listens on the API's port any more

    with pytest.raises(TransientSendError):
        send_batch(issue_id=issue.pk)

    rows = Delivery.objects.filter(issue=issue).order_by("id")
    assert [(d.attempts, d.claim) for d in rows] == [(1, None), (0, None), (0, None)]
    assert {d.status for d in rows} == {Delivery.Status.QUEUED}


@override_settings(NEWSLETTER_MAX_ATTEMPTS=2)
def test_a_message_the_esp_always_answers_with_500_fails_and_does_not_stall_the_send(
    esp: Any,
) -> None:
    esp.status = 200
    issue = sending_issue(3)
    first = Delivery.objects.filter(issue=issue).order_by("id").select_related("subscriber")[0]
    esp.broken_for = {first.subscriber.email}

    for minutes in (0, 2, 4):  # the batch task's retries, and the sweeper's after them
        with (
            time_machine.travel(timezone.now() + timedelta(minutes=minutes)),
            contextlib.suppress(TransientSendError),
        ):
            send_batch(issue_id=issue.pk)

    first.refresh_from_db()
    assert first.status == Delivery.Status.FAILED
    assert first.attempts == 2
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == 2
    assert not Delivery.objects.filter(issue=issue, status=Delivery.Status.QUEUED).exists()
