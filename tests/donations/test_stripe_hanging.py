"""Stripe slow or hanging (a local server that accepts connections and never answers): the
reader's request answers within `STRIPE_READER_BUDGET` with a calm 503 page (or JSON) that keeps
their choices, nothing is written, and the SDK's retries do not multiply the wait. The real
server under eight hanging checkouts: tests/donations/test_stripe_hanging_server.py."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from donations.models import Donation, Donor, RecurringChange, RecurringDonation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.donor_flow import Donor as Giver
from tests.donations.donor_flow import confirm_fields
from tests.donations.stripe_events import post_event, stripe_event
from tests.hanging_server import HangingServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

CHECKOUT = "/support/checkout/"
CHOICES = {"frequency": "annual", "currency": "eur", "amount": "", "custom_amount": "25"}
BUDGET = 1.5  # seconds; short, so the suite does not wait the production default (4)
MARGIN = 1.0  # Django's own work for the request, on a busy shared machine
WORDS = "Payments are briefly unavailable. Nothing was charged. Please try again in a minute."


@pytest.fixture
def hanging_stripe(
    client: Client, stripe_standin: StripeStandin, settings: Any
) -> Iterator[HangingServer]:
    """Stripe hanging, after one checkout while it answered (a warm process, as in production:
    the first request's imports are not the reader's wait)."""
    assert client.post(CHECKOUT, {**CHOICES, "amount": "30"}).status_code == 303
    with HangingServer() as server:
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_READER_BUDGET = BUDGET
        settings.STRIPE_TIMEOUT = 30  # the budget, not the per-attempt timeout, must end it
        yield server


def _timed_post(client: Client, path: str, data: dict[str, str], **extra: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.post(path, data, **extra)
    return response, time.monotonic() - started


def test_a_hanging_stripe_gets_the_reader_a_503_page_within_the_budget_with_their_choices(
    client: Client, hanging_stripe: HangingServer
) -> None:
    response, took = _timed_post(client, CHECKOUT, {**CHOICES, "variant": "", "attempt": "a" * 32})

    assert took < BUDGET + MARGIN
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert WORDS in page
    assert "annual gift of 25.00 EUR" in page
    retry = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    assert retry["frequency"] == "annual"
    assert retry["currency"] == "eur"
    assert retry["custom_amount"] == "25.00"
    assert len(retry["attempt"]) == 32
    assert retry["attempt"] != "a" * 32  # Stripe would replay a failed answer for the old key
    assert "Try again" in page
    assert hanging_stripe.accepted == 1  # no SDK retry waiting a second time
    assert not Donation.objects.exists()
    assert not Donor.objects.exists()
    assert not RecurringDonation.objects.exists()


def test_a_json_caller_gets_a_json_503_within_the_budget(
    client: Client, hanging_stripe: HangingServer
) -> None:
    response, took = _timed_post(client, CHECKOUT, CHOICES, headers={"Accept": "application/json"})

    assert took < BUDGET + MARGIN
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json() == {"error": WORDS}


def test_a_failing_stripe_gets_one_retry_per_request_not_the_sdks(
    client: Client, stripe_standin: StripeStandin, settings: Any
) -> None:
    settings.STRIPE_READER_BUDGET = BUDGET
    stripe_standin.fail_next(500, times=5)

    response = client.post(CHECKOUT, CHOICES)

    assert response.status_code == 503
    attempts = stripe_standin.requests("/v1/checkout/sessions")
    assert [a["status"] for a in attempts] == [500, 500]
    assert len({a["idempotency_key"] for a in attempts}) == 1  # the retry is the same request


def test_the_donors_change_answers_within_the_budget_when_stripe_hangs_and_changes_nothing(
    client: Client,
    stripe_standin: StripeStandin,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    giver = Giver(client, stripe_standin, django_capture_on_commit_callbacks, "giver@example.org")
    giver.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with giver.at("2026-03-10 10:00Z"):
        link = giver.link()
        url = f"{link}gifts/{gift.pk}/change/"
        choice = client.post(url, {"amount": "60", "frequency": "annual"})
        assert choice.status_code == 200
        with HangingServer() as hanging:
            settings.STRIPE_API_BASE = hanging.url
            settings.STRIPE_READER_BUDGET = BUDGET
            settings.STRIPE_TIMEOUT = 30
            confirmed = confirm_fields(choice.content.decode())
            response, took = _timed_post(client, url, confirmed)

    assert took < BUDGET + MARGIN
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert WORDS in page
    assert f'<form method="post" action="{url}">' in page  # Try again: the same change
    retry = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    assert {k: retry[k] for k in ("amount", "frequency", "confirm")} == {
        "amount": "60.00", "frequency": "annual", "confirm": "on",
    }  # fmt: skip
    assert re.fullmatch("[0-9a-f]{32}", retry["attempt"])
    assert retry["attempt"] != confirmed["attempt"]
    assert not RecurringChange.objects.exists()
    gift.refresh_from_db()
    assert (gift.amount, gift.frequency) == (5, "monthly")


def test_a_webhook_that_must_ask_stripe_answers_503_within_the_budget_and_keeps_nothing(
    client: Client, hanging_stripe: HangingServer
) -> None:
    """A failed renewal arriving first names only its price: the price must come from Stripe."""
    event = stripe_event("invoice_payment_failed", event_id="evt_test_fail_while_hanging")
    event["data"]["object"]["parent"]["subscription_details"]["metadata"] = {}
    started = time.monotonic()
    response = post_event(client, event)
    took = time.monotonic() - started

    assert took < BUDGET + MARGIN
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert json.loads(response.content) == {"error": WORDS}
    assert hanging_stripe.accepted == 1
    assert not StripeEvent.objects.filter(stripe_id="evt_test_fail_while_hanging").exists()
    assert not RecurringDonation.objects.exists()


def test_the_thank_you_page_does_not_wait_past_the_budget_for_stripe(
    client: Client, hanging_stripe: HangingServer
) -> None:
    started = time.monotonic()
    response = client.get("/support/thank-you/", {"session_id": "cs_test_not_recorded_yet"})

    assert time.monotonic() - started < BUDGET + MARGIN
    assert response.status_code == 200
    assert hanging_stripe.accepted == 1
