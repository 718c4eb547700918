"""Drive the reader's flow: our checkout view, then the stand-in's signed events to our webhook."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.test import Client

from donations.standin import StripeStandin
from tests.donations.stripe_events import WEBHOOK_PATH, signature_header


def checkout(client: Client, **form: str) -> str:
    data = {"frequency": "monthly", "currency": "usd", "amount": "5", "source_page": "/"}
    response = client.post("/support/checkout/", {**data, **form})
    assert response.status_code == 303
    return str(response["Location"]).rsplit("/", 1)[-1]


def post_payload(client: Client, payload: bytes, capture: Any = None) -> int:
    """POST one event's exact bytes, signed, to our webhook (running on-commit work when a
    `django_capture_on_commit_callbacks` is given); returns the status."""
    with capture(execute=True) if capture else nullcontext():
        response = client.post(
            WEBHOOK_PATH, data=payload, content_type="application/json",
            headers={"Stripe-Signature": signature_header(payload)},
        )  # fmt: skip
    return int(response.status_code)


def deliver_all(
    client: Client, standin: StripeStandin, capture: Any = None, *, skip: int = 0
) -> int:
    """Post the stand-in's events (exact bytes, signed); returns how many were posted."""
    payloads = standin.event_payloads()[skip:]
    for payload in payloads:
        assert post_payload(client, payload, capture) == 200
    return skip + len(payloads)
