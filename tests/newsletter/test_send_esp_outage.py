"""An ESP outage (its API answers 503, 429 or not at all) ends the lane: the call in flight is
deferred like any temporary error (one attempt for each of its recipients), the rest of the
batch goes back uncharged and the task retries with backoff, so a long outage costs each retry
one call's attempts, not one per row. A message the ESP always refuses fails after the last
attempt, alone: it neither stalls the send nor drags its batch-mates with it.

A real anymail backend (Postmark's, through the batch endpoint) posts to an HTTP server on
loopback standing in for the ESP's API.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from newsletter.models import Delivery, Issue
from newsletter.sending import TransientSendError, run_lane
from newsletter.services.sends import issue_start_sending
from tests.http_stub import JSONHandler, serving
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


class FakePostmark(JSONHandler):
    """Postmark's /email/batch: answers `server.status`; with 200, one result per message, an
    error result (code 701) for addresses in `server.broken_for`."""

    def do_POST(self) -> None:
        server: Any = self.server
        messages = self.read_json()
        server.requests.append([m["To"] for m in messages])
        body: Any = {"ErrorCode": 100, "Message": "Service unavailable"}
        if server.status == 200:
            body = [
                {"ErrorCode": 701, "Message": "Something went wrong"}
                if m["To"] in server.broken_for
                else {"To": m["To"], "MessageID": f"id-{n}", "ErrorCode": 0, "Message": "OK"}
                for n, m in enumerate(messages)
            ]
        self.answer(server.status, body)


@pytest.fixture
def esp() -> Iterator[Any]:
    with (
        serving(FakePostmark, requests=[], status=503, broken_for=set()) as server,
        override_settings(
            EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
            ANYMAIL={"POSTMARK_SERVER_TOKEN": "token", "POSTMARK_API_URL": server.url},
            NEWSLETTER_PROVIDER_BATCH_SIZES={"postmark": 2},
            NEWSLETTER_PROVIDER_CONCURRENCY=1,
        ),
    ):
        yield server


def sending_issue(readers: int) -> Issue:
    SubscriberFactory.create_batch(readers)
    issue = IssueFactory.create(status=Issue.Status.SCHEDULED)
    IssueItemFactory.create(issue=issue)
    assert issue_start_sending(issue_id=issue.pk)  # its lane tasks are not run: we play them
    return issue


@pytest.mark.parametrize("status", [503, 429])
def test_an_esp_answering_5xx_or_429_ends_the_lane_charging_one_call_and_all_arrive_later(
    esp: Any, status: int
) -> None:
    esp.status = status
    issue = sending_issue(5)

    with pytest.raises(TransientSendError):
        run_lane(issue_id=issue.pk)

    assert len(esp.requests) == 1  # the lane stopped at the first answer
    rows = Delivery.objects.filter(issue=issue).order_by("id")
    assert [(d.status, d.attempts) for d in rows] == [("queued", 1)] * 2 + [("queued", 0)] * 3
    assert rows[0].next_attempt_at is not None

    esp.status = 200
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        result = run_lane(issue_id=issue.pk)
    assert result.sent == 5
    sent = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    delivered = [to for call in esp.requests[1:] for to in call]
    assert sorted(delivered) == sorted(d.subscriber.email for d in sent)  # each exactly once
    assert sent.count() == 5


def test_an_esp_that_cannot_be_reached_ends_the_lane_the_same_way(esp: Any) -> None:
    issue = sending_issue(3)
    esp.shutdown()
    esp.server_close()  # nothing listens on the API's port any more

    with pytest.raises(TransientSendError):
        run_lane(issue_id=issue.pk)

    rows = Delivery.objects.filter(issue=issue).order_by("id")
    assert [d.attempts for d in rows] == [1, 1, 0]
    assert {d.status for d in rows} == {Delivery.Status.QUEUED}


@override_settings(NEWSLETTER_MAX_ATTEMPTS=2)
def test_a_message_the_esp_always_refuses_fails_alone_and_does_not_stall_the_send(
    esp: Any,
) -> None:
    esp.status = 200
    issue = sending_issue(3)
    first = Delivery.objects.filter(issue=issue).order_by("id").select_related("subscriber")[0]
    esp.broken_for = {first.subscriber.email}

    for minutes in (0, 2, 4):  # the lane's retries, and the sweeper's after them
        with (
            time_machine.travel(timezone.now() + timedelta(minutes=minutes)),
            contextlib.suppress(TransientSendError),
        ):
            run_lane(issue_id=issue.pk)

    first.refresh_from_db()
    assert first.status == Delivery.Status.FAILED
    assert first.attempts == 2
    others = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    assert others.count() == 2
    assert set(others.values_list("attempts", flat=True)) == {1}
    delivered = [to for call in esp.requests for to in call if to != first.subscriber.email]
    assert sorted(delivered) == sorted(d.subscriber.email for d in others)  # none twice
    assert not Delivery.objects.filter(issue=issue, status=Delivery.Status.QUEUED).exists()
