"""An ESP outage (its API answers 503, 429 or not at all) charges no delivery an attempt: the
batch gives its rows back and retries later, so a long outage loses nobody's issue.

A real anymail backend (Postmark's) posts to an HTTP server on loopback standing in for the
ESP's API.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import override_settings

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
        if server.status == 200:
            body = {"To": payload["To"], "MessageID": "id", "ErrorCode": 0, "Message": "OK"}
        data = json.dumps(body).encode()
        self.send_response(server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def esp() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), FakeESP)
    server.requests, server.status = [], 503
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
def test_an_esp_answering_5xx_or_429_charges_no_attempt_and_the_retry_sends_each_once(
    esp: Any, status: int
) -> None:
    esp.status = status
    issue = sending_issue(4)

    for _ in range(10):  # ten retries of the batch task during the outage
        with pytest.raises(TransientSendError):
            send_batch(issue_id=issue.pk)

    assert len(esp.requests) == 10  # one try per batch, not one per subscriber
    queued = Delivery.objects.filter(issue=issue, status=Delivery.Status.QUEUED)
    assert queued.count() == 4
    assert all(d.attempts == 0 and d.claim is None for d in queued)

    esp.status = 200
    result = send_batch(issue_id=issue.pk)
    assert result.sent == 4 and result.deferred == 0
    readers = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    assert sorted(esp.requests[10:]) == sorted(d.subscriber.email for d in readers)
    assert len(esp.requests) == 14 and readers.count() == 4


def test_an_esp_that_cannot_be_reached_charges_no_attempt(esp: Any) -> None:
    issue = sending_issue(3)
    esp.shutdown()
    esp.server_close()  # nothing listens on the API's port any more

    with pytest.raises(TransientSendError):
        send_batch(issue_id=issue.pk)

    rows = Delivery.objects.filter(issue=issue)
    assert [(d.status, d.attempts, d.claim) for d in rows] == [("queued", 0, None)] * 3
