"""Recorded Stripe events (tests/fixtures/stripe/, Stripe's shapes for the pinned API version)
and a real `Stripe-Signature` computed from the test secret."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from donations.standin.signing import stripe_signature_header
from donations.stripe_client import Event, parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"
WEBHOOK_PATH = "/stripe/webhook/"


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def stripe_event(name: str, **object_fields: Any) -> dict[str, Any]:
    """A copy of a recorded event; keyword arguments replace fields of `data.object`, and
    `event_id` / `created` replace the event's own."""
    event = copy.deepcopy(_load(name))
    if "event_id" in object_fields:
        event["id"] = object_fields.pop("event_id")
    if "created" in object_fields:
        event["created"] = object_fields.pop("created")
    event["data"]["object"].update(object_fields)
    return event


def recorded_objects() -> list[dict[str, Any]]:
    """What Stripe holds for the recorded events' story: the monthly gift's subscription and its
    price, as the handlers fetch them when an event names them by id only."""
    subscription = copy.deepcopy(_load("customer_subscription_created")["data"]["object"])
    return [subscription, *(copy.deepcopy(item["price"]) for item in subscription["items"]["data"])]


def signature_header(
    payload: bytes, *, secret: str | None = None, timestamp: int | None = None
) -> str:
    return stripe_signature_header(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)


def parsed_event(name: str, **object_fields: Any) -> Event:
    """A recorded event through the one parser, as the webhook view hands it on."""
    return parse.event(stripe_event(name, **object_fields))


def post_event(client: Client, event: dict[str, Any], **signing: Any) -> HttpResponse:
    payload = json.dumps(event).encode()
    response = client.post(
        WEBHOOK_PATH,
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature_header(payload, **signing)},
    )
    assert isinstance(response, HttpResponse)
    return response
