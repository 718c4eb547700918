"""A recurring gift's terms (frequency, amount) come from Stripe's objects, never from a
default: an event that arrives first and does not carry them (an invoice names only its
price's id) has them fetched from Stripe through the boundary, or is answered 503 so Stripe
sends it again. All through the signed webhook, with the stand-in as Stripe."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from donations.models import Donation, FailedPayment, RecurringDonation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.factories import DonorFactory
from tests.donations.stripe_events import recorded_objects, stripe_event

pytestmark = pytest.mark.django_db

Deliver = Callable[[dict[str, Any]], int]


def _annual_price(standin: StripeStandin) -> str:
    """Stripe holds an annual price of 120 USD (as a reader's annual checkout makes one)."""
    price = copy.deepcopy(next(o for o in recorded_objects() if o["object"] == "price"))
    price.update(id="price_test_annual0001", unit_amount=12000)
    price["recurring"].update(interval="year", interval_count=1)
    with standin.store.lock:
        standin.store.add(price)
    return str(price["id"])


def _failed_annual_renewal() -> dict[str, Any]:
    """The recorded failed renewal, for an annual gift whose invoice names only its price id
    and carries no frequency hint in its metadata."""
    event = stripe_event("invoice_payment_failed", amount_due=12000)
    invoice = event["data"]["object"]
    invoice["parent"]["subscription_details"].update(
        subscription="sub_test_annual0001", metadata={}
    )
    line = invoice["lines"]["data"][0]
    line.update(amount=12000)
    line["pricing"]["price_details"]["price"] = "price_test_annual0001"
    return event


def _fetched(standin: StripeStandin, path: str) -> list[dict[str, Any]]:
    return [r for r in standin.requests(path) if r["method"] == "GET" and r["status"] == 200]


def test_a_failed_renewal_arriving_first_creates_the_gift_with_its_price_fetched_from_stripe(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    DonorFactory(email="reader@example.org", stripe_customer_id="cus_test_monthly0001")
    _annual_price(recorded_stripe)

    assert deliver(_failed_annual_renewal()) == 200

    recurring = RecurringDonation.objects.get()
    assert (recurring.frequency, recurring.amount, recurring.currency) == (
        "annual",
        Decimal("120.00"),
        "usd",
    )
    assert recurring.status == RecurringDonation.Status.PAST_DUE
    assert len(_fetched(recorded_stripe, "/v1/prices/price_test_annual0001")) == 1
    [notice] = mail.outbox
    assert "your annual gift of 120.00 USD" in notice.body
    assert "0.00 USD" not in notice.body.replace("120.00 USD", "")


def test_a_failed_renewal_first_while_stripe_is_down_is_retried_and_keeps_nothing(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    _annual_price(recorded_stripe)
    recorded_stripe.fail_next(500, times=2)  # the call and its one retry

    assert deliver(_failed_annual_renewal()) == 503
    assert not StripeEvent.objects.exists()
    assert not RecurringDonation.objects.exists()
    assert not FailedPayment.objects.exists()

    assert deliver(_failed_annual_renewal()) == 200  # Stripe's retry
    assert RecurringDonation.objects.get().frequency == "annual"


def test_a_failed_renewal_whose_price_stripe_does_not_know_records_nothing(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    assert deliver(_failed_annual_renewal()) == 400  # price_test_annual0001 does not exist
    assert not RecurringDonation.objects.exists()
    assert not StripeEvent.objects.exists()


def test_an_invoice_naming_no_line_price_has_its_subscription_fetched(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    renewal = stripe_event("invoice_paid_renewal")
    renewal["data"]["object"]["lines"]["data"] = []
    assert deliver(renewal) == 200

    recurring = RecurringDonation.objects.get()
    assert (recurring.frequency, recurring.amount) == ("monthly", Decimal("5.00"))
    assert _fetched(recorded_stripe, "/v1/subscriptions/sub_test_monthly0001")


def test_a_gift_already_recorded_asks_stripe_nothing_for_its_renewals(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    deliver(stripe_event("checkout_session_completed_monthly"))
    deliver(stripe_event("customer_subscription_created"))  # names the gift's price
    deliver(stripe_event("invoice_paid_renewal"))
    deliver(stripe_event("invoice_payment_failed"))

    assert RecurringDonation.objects.get().frequency == "monthly"
    assert Donation.objects.count() == 2
    assert recorded_stripe.requests("/v1/prices") == []
    assert recorded_stripe.requests("/v1/subscriptions") == []


def test_the_first_invoice_after_its_checkout_asks_stripe_nothing(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    deliver(stripe_event("checkout_session_completed_monthly"))
    deliver(stripe_event("invoice_paid_first"))

    assert Donation.objects.get().frequency == "monthly"
    assert recorded_stripe.requests("/v1/prices") == []
    assert recorded_stripe.requests("/v1/subscriptions") == []


def test_a_gift_known_only_from_its_checkout_fetches_its_price_once(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    deliver(stripe_event("checkout_session_completed_monthly"))
    deliver(stripe_event("invoice_paid_renewal"))
    deliver(stripe_event("invoice_paid_renewal", id="in_test_renewal0002", event_id="evt_2"))

    recurring = RecurringDonation.objects.get()
    assert (recurring.frequency, recurring.stripe_price_id) == ("monthly", "price_test_monthly0001")
    assert len(_fetched(recorded_stripe, "/v1/prices/price_test_monthly0001")) == 1


def test_a_checkout_session_without_our_frequency_metadata_takes_its_subscriptions(
    deliver: Deliver, recorded_stripe: StripeStandin
) -> None:
    assert deliver(stripe_event("checkout_session_completed_monthly", metadata={})) == 200

    recurring = RecurringDonation.objects.get()
    assert (recurring.frequency, recurring.amount) == ("monthly", Decimal("5.00"))
    assert Donation.objects.get().frequency == "monthly"
    assert _fetched(recorded_stripe, "/v1/subscriptions/sub_test_monthly0001")
