from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from donations.standin import StripeStandin
from tests.donations.flow import checkout, deliver_all

pytestmark = pytest.mark.django_db

EMAIL = "private.reader@example.org"
READER_IP = "203.0.113.77"


def test_no_email_address_ip_or_portal_url_reaches_the_logs_even_at_debug(
    stripe_standin: StripeStandin,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(REMOTE_ADDR=READER_IP)
    session_id = checkout(client)
    stripe_standin.pay(session_id, email=EMAIL)
    deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/manage/", {"email": EMAIL})
        client.post("/support/remind-me/", {"email": EMAIL})
    link = next(
        line.strip() for line in mail.outbox[-1].body.splitlines() if "/support/manage/" in line
    )
    portal = client.post(link.removeprefix("http://testserver"))
    assert portal.status_code == 303

    # Every field of every record, `extra=` and arguments included (caplog.text shows only
    # the message, and a JSON log formatter writes the extras too).
    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    assert "checkout session created" in logged  # the logs do speak
    assert EMAIL not in logged
    assert READER_IP not in logged
    assert portal["Location"] not in logged
    assert link not in logged
