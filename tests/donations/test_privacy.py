from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from donations.models import Donation, RecurringDonation
from donations.standin import StripeStandin
from newsroom.logs import JsonFormatter, KeyValueFormatter
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
    path = link.removeprefix("http://testserver")
    gift = RecurringDonation.objects.get()
    payment = Donation.objects.get()
    assert client.get(path).status_code == 200  # the donor's page, its documents, its data
    assert client.get(f"{path}receipts/{payment.pk}/pdf/").status_code == 200
    assert client.get(f"{path}data/").status_code == 200
    portal = client.post(f"{path}gifts/{gift.pk}/card/")
    assert portal.status_code == 303
    token = link.rstrip("/").rsplit("/", 1)[-1]
    client.get(f"/support/manage/{token}/no-such-page/")  # Django logs a 404's path
    client.put(link.removeprefix("http://testserver"))  # and a 405's

    # What reaches the log: every record as the configured formatters write it (message,
    # every `extra=` field, tracebacks)...
    written = "\n".join(
        formatter.format(record)
        for record in caplog.records
        for formatter in (KeyValueFormatter(), JsonFormatter())
    )
    # ...and every field of every record our own code made, before any masking.
    ours = "".join(
        repr(vars(record))
        for record in caplog.records
        if record.name.split(".")[0] in {"donations", "newsletter", "newsroom"}
    )
    assert "checkout session created" in written  # the logs do speak
    assert "/support/manage/[token]/no-such-page/" in written
    for logged in (written, ours):
        assert EMAIL not in logged
        assert READER_IP not in logged
        assert portal["Location"] not in logged
        assert token not in logged
