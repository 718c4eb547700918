"""Every donations form is CSRF-protected; the Stripe webhook alone is exempt (its signature
authenticates it)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from donations.links import manage_link, reminder_stop_url
from donations.models import Reminder
from donations.services.reminders import reminder_create
from donations.standin import StripeStandin
from tests.donations.factories import RecurringDonationFactory, make_donor
from tests.donations.stripe_events import post_event, stripe_event

pytestmark = pytest.mark.django_db

GIFT = {"frequency": "monthly", "currency": "usd", "amount": "5", "source_page": "/"}


def _checkout_posts(standin: StripeStandin) -> list[dict[str, Any]]:
    return [r for r in standin.requests("/v1/checkout/sessions") if r["method"] == "POST"]


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(
    stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    donor = make_donor(email="donor@example.org")
    RecurringDonationFactory(donor=donor, stripe_customer_id=donor.stripe_customer_id)
    reminder = reminder_create(email="later@example.org")
    assert reminder is not None
    opt_out = reminder_stop_url(reminder_id=reminder.pk).removeprefix("http://testserver")
    portal = f"/support/manage/{manage_link.make(donor.pk)}/"
    forged = Client(enforce_csrf_checks=True)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            forged.post("/support/checkout/", GIFT).status_code,
            forged.post("/support/remind-me/", {"email": "new@example.org"}).status_code,
            forged.post("/support/manage/", {"email": "donor@example.org"}).status_code,
            forged.post(portal).status_code,
            forged.post(opt_out).status_code,
            forged.post("/support/", GIFT).status_code,  # "Update amounts"
        ]

    assert statuses == [403] * 6
    assert _checkout_posts(stripe_standin) == []
    assert not stripe_standin.requests("/v1/billing_portal/sessions")
    assert list(Reminder.objects.values_list("email", "opted_out_at")) == [
        ("later@example.org", None)
    ]
    assert mail.outbox == []


def test_the_support_form_with_its_token_reaches_checkout(stripe_standin: StripeStandin) -> None:
    reader = Client(enforce_csrf_checks=True)
    page = reader.get("/support/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None

    response = reader.post("/support/checkout/", {**GIFT, "csrfmiddlewaretoken": token[1]})

    assert response.status_code == 303
    assert len(_checkout_posts(stripe_standin)) == 1


def test_the_signed_stripe_webhook_needs_no_csrf_token() -> None:
    stripe = Client(enforce_csrf_checks=True)
    assert post_event(stripe, stripe_event("checkout_session_completed_once")).status_code == 200
