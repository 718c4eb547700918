"""Creating Checkout Sessions through the real stripe SDK, as Stripe validates them."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from donations.standin import StripeStandin
from tests.donations.standin.conftest import donation_params, subscription_params


def test_payment_session_is_created_and_its_params_recorded(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(
        params=donation_params(client_reference_id="ref-1"),
        options={"idempotency_key": "donation-1"},
    )

    assert session.id.startswith("cs_test_")
    assert (session.object, session.status, session.payment_status) == (
        "checkout.session", "open", "unpaid",
    )  # fmt: skip
    assert (session.mode, session.submit_type) == ("payment", "donate")
    assert (session.amount_total, session.currency) == (2500, "eur")
    assert session.url == f"{stripe_standin.url}/pay/{session.id}"
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"frequency": "once"}
    assert session.client_reference_id == "ref-1"
    assert session.customer is None
    assert session.payment_intent is None
    [request] = stripe_standin.requests("/v1/checkout/sessions")
    assert request["method"] == "POST"
    assert request["idempotency_key"] == "donation-1"
    assert request["stripe_version"] == stripe.api_version
    price_data = request["params"]["line_items"][0]["price_data"]
    assert (price_data["unit_amount"], price_data["currency"]) == ("2500", "eur")
    assert request["params"]["payment_intent_data"] == {"metadata": {"frequency": "once"}}
    assert request["params"]["submit_type"] == "donate"
    assert request["params"]["mode"] == "payment"
    assert request["params"]["metadata"] == {"frequency": "once"}


@pytest.mark.parametrize("interval", ["month", "year"])
def test_subscription_session_records_interval_and_subscription_metadata(
    stripe_standin: StripeStandin, client: stripe.StripeClient, interval: str
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params(interval))

    assert (session.mode, session.submit_type, session.amount_total) == (
        "subscription", "donate", 1000,
    )  # fmt: skip
    params = stripe_standin.requests("/v1/checkout/sessions")[0]["params"]
    assert params["line_items"][0]["price_data"]["recurring"] == {"interval": interval}
    assert params["subscription_data"] == {"metadata": {"frequency": "monthly"}}
    line_items = client.v1.checkout.sessions.line_items.list(session.id)
    price = line_items.data[0].price
    assert price is not None
    assert price.recurring is not None
    assert price.recurring.interval == interval


def test_same_idempotency_key_and_params_replays_the_session_without_creating_another(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    first = client.v1.checkout.sessions.create(
        params=donation_params(), options={"idempotency_key": "same"}
    )
    second = client.v1.checkout.sessions.create(
        params=donation_params(), options={"idempotency_key": "same"}
    )

    assert second.id == first.id
    assert second.last_response is not None
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    sessions = [
        o for o in stripe_standin.store.objects.values() if o["object"] == "checkout.session"
    ]
    assert len(sessions) == 1


def test_same_idempotency_key_with_other_params_is_refused(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    client.v1.checkout.sessions.create(
        params=donation_params(), options={"idempotency_key": "reused"}
    )
    other = donation_params(metadata={"frequency": "twice"})

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.checkout.sessions.create(params=other, options={"idempotency_key": "reused"})

    assert raised.value.http_status == 400
    assert "same parameters" in str(raised.value.user_message)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        (donation_params(mode=None), "mode"),
        (donation_params(line_items=None), "line_items"),
        (
            donation_params(line_items=[{"quantity": 1, "price_data": {
                "currency": "eur", "unit_amount": 49, "product_data": {"name": "Tiny"}}}]),
            "line_items[0][price_data][unit_amount]",
        ),
        (subscription_params("fortnight"), "line_items[0][price_data][recurring][interval]"),
        (donation_params(line_items=[{"price_data": {
            "currency": "eur", "unit_amount": 500, "product_data": {"name": "No quantity"}}}]),
         "line_items[0][quantity]"),
        (donation_params(customer="cus_missing", customer_email=None), "customer"),
        (donation_params(subscription_data={"metadata": {"a": "b"}}), "subscription_data"),
        (donation_params(unknown_field="x"), "unknown_field"),
        (donation_params(success_url="/support/thanks/"), "success_url"),
        (donation_params(customer_email="not-an-address"), "customer_email"),
    ],
)  # fmt: skip
def test_invalid_session_params_are_refused_like_stripe_with_the_param_named(
    stripe_standin: StripeStandin, client: stripe.StripeClient, params: Any, param: str
) -> None:
    params = {key: value for key, value in params.items() if value is not None}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params)

    assert raised.value.param == param
    assert raised.value.error is not None
    assert raised.value.error.type == "invalid_request_error"
    assert stripe_standin.store.objects == {}  # no session, nor its price or product


def test_recurring_price_in_payment_mode_is_refused(client: stripe.StripeClient) -> None:
    params = subscription_params()
    params.pop("subscription_data")
    params["mode"] = "payment"

    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        client.v1.checkout.sessions.create(params=params)


def test_retrieve_returns_the_session_and_unknown_ids_are_404_resource_missing(
    client: stripe.StripeClient,
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())

    assert client.v1.checkout.sessions.retrieve(session.id).id == session.id
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    for retrieve in (client.v1.customers.retrieve, client.v1.subscriptions.retrieve,
                     client.v1.invoices.retrieve, client.v1.payment_intents.retrieve,
                     client.v1.charges.retrieve):  # fmt: skip
        with pytest.raises(stripe.InvalidRequestError):
            retrieve("xx_unknown")


def test_expired_session_emits_checkout_session_expired(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())

    expired = client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    [event] = stripe_standin.events("checkout.session.expired")
    assert event["data"]["object"]["id"] == session.id


def test_expand_replaces_ids_with_objects_like_stripe(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    stripe_standin.pay(session.id)

    expanded = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "invoice.payments.data.payment"]}
    )

    subscription, invoice = expanded.subscription, expanded.invoice
    assert isinstance(subscription, stripe.Subscription)
    assert subscription.status == "active"
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.status == "paid"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["no_such_field"]})
    assert raised.value.param == "expand"
