"""A donor's change in the Billing Portal (a new amount or interval) and Stripe's test clock,
driven through the stand-in's control API over HTTP, as a demo operator or another process
would."""

from __future__ import annotations

import json
from typing import Any

import stripe

from donations.standin import StripeStandin
from tests.donations.standin.conftest import get_page, post_form, previous, verified_events


def test_a_portal_amount_change_gives_the_item_a_new_price_and_emits_updated(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    sub_id = paid_subscription.subscription
    before = client.v1.subscriptions.retrieve(sub_id)["items"].data[0]

    status, _, body = post_form(
        f"{stripe_standin.url}/_standin/subscriptions/{sub_id}/change-price",
        {"unit_amount": "1500"},
    )

    assert status == 200
    assert json.loads(body)["items"]["data"][0]["price"]["unit_amount"] == 1500
    after = client.v1.subscriptions.retrieve(sub_id)["items"].data[0]
    assert after.id == before.id
    assert after.price.id != before.price.id
    assert (after.price.unit_amount, after.price.currency) == (1500, "eur")
    assert after.price.product == before.price.product
    assert after.price.recurring is not None
    assert after.price.recurring.interval == "month"
    [event] = verified_events(stripe_standin, "customer.subscription.updated")
    assert event.data.object["items"]["data"][0]["price"]["unit_amount"] == 1500
    assert previous(event)["items"]["data"][0]["price"]["unit_amount"] == 1000
    assert len(stripe_standin.events("invoice.paid")) == 1  # same interval: nothing invoiced


def test_a_portal_interval_change_invoices_the_new_period_at_once(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    sub_id = paid_subscription.subscription

    stripe_standin.change_price(sub_id, 12000, "year")

    price = client.v1.subscriptions.retrieve(sub_id)["items"].data[0].price
    assert price.recurring is not None
    assert (price.unit_amount, price.recurring.interval) == (12000, "year")
    paid = stripe_standin.events("invoice.paid")
    assert [e["data"]["object"]["amount_paid"] for e in paid] == [1000, 12000]
    assert paid[-1]["data"]["object"]["billing_reason"] == "subscription_update"


def test_a_change_price_call_with_a_bad_amount_or_unknown_subscription_is_refused(
    stripe_standin: StripeStandin, paid_subscription: Any
) -> None:
    url = f"{stripe_standin.url}/_standin/subscriptions"
    sub_id = paid_subscription.subscription

    assert post_form(f"{url}/{sub_id}/change-price", {"unit_amount": "-5"})[0] == 400
    assert post_form(f"{url}/{sub_id}/change-price", {})[0] == 400
    assert post_form(f"{url}/{sub_id}/change-price", {"unit_amount": "5", "interval": "x"})[0] == (
        400
    )
    assert post_form(f"{url}/sub_unknown/change-price", {"unit_amount": "500"})[0] == 404
    assert stripe_standin.events("customer.subscription.updated") == []


def test_advancing_the_clock_dates_what_happens_next(
    stripe_standin: StripeStandin, paid_subscription: Any
) -> None:
    [created] = stripe_standin.events("customer.subscription.created")

    status, _, body = post_form(f"{stripe_standin.url}/_standin/clock/advance", {"seconds": "60"})
    stripe_standin.fail_invoice(paid_subscription.subscription)

    assert status == 200
    [failed] = stripe_standin.events("invoice.payment_failed")
    assert failed["created"] >= created["created"] + 60
    assert failed["data"]["object"]["created"] == failed["created"]
    assert json.loads(body)["now"] >= created["created"] + 60
    assert post_form(f"{stripe_standin.url}/_standin/clock/advance", {"seconds": "-1"})[0] == 400


def test_the_portal_page_changes_the_amount_and_interval_as_the_donor_types_them(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": paid_subscription.customer, "return_url": "http://testserver/"}
    )
    sub_id = paid_subscription.subscription
    assert "Change amount" in get_page(portal.url)

    refused = post_form(portal.url, {"subscription": sub_id, "action": "change", "amount": "12,5"})
    status, location, _ = post_form(
        portal.url,
        {"subscription": sub_id, "action": "change", "amount": "120.50", "interval": "year"},
    )

    assert "Enter%20an%20amount" in refused[1]
    assert (status, "updated" in location) == (303, True)
    price = client.v1.subscriptions.retrieve(sub_id)["items"].data[0].price
    assert price.recurring is not None
    assert (price.unit_amount, price.recurring.interval) == (12050, "year")
    assert "120.50 EUR" in get_page(portal.url)
