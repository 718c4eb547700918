"""Subscriptions after checkout: updates, cancellation, the billing portal, customers."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from donations.standin import StripeStandin
from tests.donations.standin.conftest import (
    get_page,
    post_form,
    previous,
    subscription_params,
    verified_events,
)


def test_cancel_at_period_end_emits_updated_and_the_renewal_ends_it(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    sub_id = paid_subscription.subscription

    updated = client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})

    assert updated.cancel_at_period_end is True
    assert updated.cancel_at == updated["items"].data[0].current_period_end
    [event] = verified_events(stripe_standin, "customer.subscription.updated")
    assert previous(event)["cancel_at_period_end"] is False
    stripe_standin.renew(sub_id)
    [deleted] = verified_events(stripe_standin, "customer.subscription.deleted")
    assert deleted.data.object["status"] == "canceled"
    assert len(stripe_standin.events("invoice.paid")) == 1  # no new period was billed


def test_cancel_now_emits_deleted_naming_the_api_request(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    canceled = client.v1.subscriptions.cancel(paid_subscription.subscription)

    assert canceled.status == "canceled"
    assert canceled.ended_at is not None
    [event] = verified_events(stripe_standin, "customer.subscription.deleted")
    assert event.data.object["id"] == paid_subscription.subscription
    request_id = stripe_standin.requests("/v1/subscriptions")[-1]["request_id"]
    assert event.request is not None
    assert event.request.id == request_id
    active = client.v1.subscriptions.list(params={"customer": paid_subscription.customer})
    assert active.data == []  # Stripe lists canceled subscriptions only with status=all
    every = client.v1.subscriptions.list(
        params={"customer": paid_subscription.customer, "status": "all"}
    )
    assert [s.id for s in every.data] == [paid_subscription.subscription]


def test_portal_session_page_lists_and_cancels_the_customers_subscription(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": paid_subscription.customer, "return_url": "http://testserver/back"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url == f"{stripe_standin.url}/portal/{portal.id}"

    page = get_page(portal.url)
    assert "Demo payment — no money moves" in page
    assert "10.00 EUR" in page
    assert "monthly" in page
    assert "active" in page
    assert 'href="http://testserver/back"' in page
    status, location, _ = post_form(
        portal.url, {"subscription": paid_subscription.subscription, "action": "cancel"}
    )

    assert status == 303
    assert location.startswith(f"/portal/{portal.id}")
    [event] = verified_events(stripe_standin, "customer.subscription.deleted")
    assert event.data.object["id"] == paid_subscription.subscription
    assert "canceled" in get_page(stripe_standin.url + location)


def test_portal_session_cannot_touch_another_customers_subscription(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    stranger = client.v1.customers.create(params={"email": "other@example.org"})
    portal = client.v1.billing_portal.sessions.create(params={"customer": stranger.id})

    status, _, _ = post_form(
        portal.url, {"subscription": paid_subscription.subscription, "action": "cancel"}
    )

    assert status == 404
    assert client.v1.subscriptions.retrieve(paid_subscription.subscription).status == "active"
    assert not stripe_standin.events("customer.subscription.deleted")


def test_portal_update_payment_method_recovers_a_past_due_subscription(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    sub_id = paid_subscription.subscription
    stripe_standin.fail_invoice(sub_id)
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": paid_subscription.customer}
    )
    assert "Update payment method" in get_page(portal.url)

    post_form(portal.url, {"subscription": sub_id, "action": "recover"})

    assert client.v1.subscriptions.retrieve(sub_id).status == "active"
    updated = verified_events(stripe_standin, "customer.subscription.updated")[-1]
    assert updated.data.object["status"] == "active"
    assert previous(updated)["status"] == "past_due"
    assert verified_events(stripe_standin, "invoice.paid")[-1].data.object["status"] == "paid"


def test_portal_session_needs_an_existing_customer(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nobody"})
    assert (raised.value.http_status, raised.value.param) == (404, "customer")


def test_customers_are_created_updated_and_deleted_with_events(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    created = client.v1.customers.create(
        params={"email": "new@example.org", "metadata": {"donor": "1"}}
    )
    client.v1.customers.update(created.id, params={"metadata": {"donor": "", "x": "y"}})
    deleted = client.v1.customers.delete(str(paid_subscription.customer))

    assert deleted.deleted is True
    assert client.v1.customers.retrieve(str(paid_subscription.customer)).deleted is True
    kept = client.v1.customers.retrieve(created.id).metadata
    assert kept is not None
    assert kept.to_dict() == {"x": "y"}
    types = [e["type"] for e in stripe_standin.events()]
    assert types[-4:] == [
        "customer.created", "customer.updated", "customer.subscription.deleted",
        "customer.deleted",
    ]  # fmt: skip


def test_hosted_checkout_page_pays_and_redirects_to_the_success_url(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    page = get_page(str(session.url))
    assert "Demo payment — no money moves" in page
    assert "10.00 EUR" in page
    assert "monthly" in page
    assert 'value="reader@example.org"' in page
    assert 'href="http://testserver/support/"' in page

    status, location, _ = post_form(
        str(session.url), {"email": "typed@example.org", "action": "pay"}
    )

    assert status == 303
    assert location == f"http://testserver/support/thanks/?session_id={session.id}"
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert paid.customer_details is not None
    assert paid.customer_details.email == "typed@example.org"
    assert "is complete" in get_page(str(session.url))


def test_control_api_pays_lists_events_and_resets_over_http(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())

    status, _, body = post_form(
        f"{stripe_standin.url}/_standin/sessions/{session.id}/pay", {"delayed": "true"}
    )

    assert status == 200
    assert '"payment_status": "unpaid"' in body
    events = get_page(f"{stripe_standin.url}/_standin/events?type=checkout.session.completed")
    assert session.id in events
    assert '"path": "/v1/checkout/sessions"' in get_page(f"{stripe_standin.url}/_standin/requests")
    post_form(f"{stripe_standin.url}/_standin/reset", {})
    assert stripe_standin.events() == []
    assert stripe_standin.requests() == []
    status, _, _ = post_form(f"{stripe_standin.url}/_standin/subscriptions/sub_x/renew", {})
    assert status == 404


def test_canceling_a_canceled_subscription_is_no_such_subscription_as_on_stripe(
    client: stripe.StripeClient, paid_subscription: Any
) -> None:
    client.v1.subscriptions.cancel(paid_subscription.subscription)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.cancel(paid_subscription.subscription)

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
