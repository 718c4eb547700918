"""Receipts through a real Celery worker process on Redis, to a real SMTP server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from donations.models import Donation
from donations.tasks import send_receipt
from tests.donations.stripe_events import post_event, stripe_event
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.1)


def test_worker_sends_one_receipt_despite_replays_and_a_redelivered_task(
    client: Client, smtp_server: SMTPServer, celery_worker_process: Any
) -> None:
    worker = celery_worker_process(concurrency=2, env={"EMAIL_URL": smtp_server.url}).start()
    event = stripe_event("checkout_session_completed_once")
    for _ in range(3):
        assert post_event(client, event).status_code == 200
    donation = Donation.objects.get()
    send_receipt.delay(donation.pk)  # as if the broker redelivered the task
    send_receipt.delay(donation.pk)

    _wait_for(lambda: Donation.objects.get().receipt_sent_at is not None)
    _wait_for(lambda: worker.log().count("succeeded") >= 3)
    assert smtp_server.recipients() == ["reader@example.org"]
