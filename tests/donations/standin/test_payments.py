"""Paying a session: the objects Stripe creates and the events it sends, in order, signed."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from donations.standin import StripeStandin
from donations.standin.params import StripeError
from tests.donations.standin.conftest import (
    donation_params,
    previous,
    subscription_params,
    verified_events,
)


def test_one_time_payment_emits_signed_events_in_stripes_order(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())

    stripe_standin.pay(session.id)

    events = verified_events(stripe_standin)
    assert [e.type for e in events] == [
        "charge.succeeded", "payment_intent.succeeded", "checkout.session.completed",
    ]  # fmt: skip
    assert all(e.api_version == stripe.api_version for e in events)
    assert all(e.livemode is False and e.id.startswith("evt_") for e in events)
    completed = events[-1].data.object
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    assert completed["url"] is None  # only an open session has a URL
    assert completed["customer_details"]["email"] == "reader@example.org"
    assert completed["customer"] is None  # payment mode keeps a guest customer, like Stripe
    intent = client.v1.payment_intents.retrieve(completed["payment_intent"])
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2500, "eur")
    assert intent.metadata is not None
    assert intent.metadata.to_dict() == {"frequency": "once"}
    assert intent.latest_charge == events[0].data.object["id"]
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.paid, charge.status, charge.payment_intent) == (True, "succeeded", intent.id)


def test_payment_with_customer_creation_always_creates_the_customer(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params(customer_creation="always"))

    paid = stripe_standin.pay(session.id)

    customer = client.v1.customers.retrieve(paid["customer"])
    assert customer.email == "reader@example.org"
    assert stripe_standin.events()[0]["type"] == "customer.created"


def test_subscription_payment_links_session_subscription_invoice_and_payment(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    session = paid_subscription
    events = verified_events(stripe_standin)
    types = [e.type for e in events]

    assert types.index("customer.subscription.created") < types.index("invoice.paid")
    assert types.index("invoice.paid") < types.index("checkout.session.completed")
    assert (session.status, session.payment_status) == ("complete", "paid")
    subscription = client.v1.subscriptions.retrieve(session.subscription)
    invoice = client.v1.invoices.retrieve(session.invoice, params={"expand": ["payments"]})
    assert invoice.parent is not None
    assert invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert (invoice.billing_reason, invoice.status) == ("subscription_create", "paid")
    assert (invoice.amount_paid, invoice.currency, invoice.customer) == (
        1000, "eur", session.customer,
    )  # fmt: skip
    assert subscription.status == "active"
    assert subscription.latest_invoice == invoice.id
    assert subscription.metadata.to_dict() == {"frequency": "monthly"}
    item = subscription["items"].data[0]
    assert item.price.unit_amount == 1000
    assert item.price.recurring.interval == "month"
    assert item.current_period_end > item.current_period_start
    assert invoice.payments is not None
    intent_id = invoice.payments.data[0].payment.payment_intent
    assert client.v1.payment_intents.retrieve(str(intent_id)).status == "succeeded"
    paid_event = next(e for e in events if e.type == "invoice.paid")
    assert paid_event.data.object["id"] == invoice.id
    assert "subscription" not in paid_event.data.object  # gone in this API version
    assert "payments" not in paid_event.data.object  # includable: only when asked for
    by_intent: Any = {"invoice": invoice.id, "payment": {"payment_intent": str(intent_id)}}
    listed = client.v1.invoice_payments.list(params=by_intent)
    assert [p.id for p in listed.data] == [invoice.payments.data[0].id]
    assert client.v1.customers.retrieve(str(session.customer)).email == "reader@example.org"


def test_bank_debit_completes_unpaid_then_settles_as_async_payment_succeeded(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())

    stripe_standin.pay(session.id, delayed=True)

    [completed] = verified_events(stripe_standin, "checkout.session.completed")
    assert completed.data.object["payment_status"] == "unpaid"
    intent_id = completed.data.object["payment_intent"]
    assert client.v1.payment_intents.retrieve(intent_id).status == "processing"
    assert not stripe_standin.events("checkout.session.async_payment_succeeded")

    stripe_standin.settle(session.id, succeeded=True)

    [settled] = verified_events(stripe_standin, "checkout.session.async_payment_succeeded")
    assert settled.data.object["payment_status"] == "paid"
    assert settled.data.object["payment_intent"] == intent_id
    assert client.v1.payment_intents.retrieve(intent_id).status == "succeeded"


def test_bank_debit_that_bounces_emits_async_payment_failed(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    stripe_standin.pay(session.id, delayed=True)

    stripe_standin.settle(session.id, succeeded=False)

    types = [e["type"] for e in stripe_standin.events()]
    assert "invoice.paid" not in types
    assert types[-1] == "checkout.session.async_payment_failed"
    assert "invoice.payment_failed" in types
    [failed] = stripe_standin.events("checkout.session.async_payment_failed")
    assert failed["data"]["object"]["payment_status"] == "unpaid"


def test_renewal_bills_the_next_period_with_a_subscription_cycle_invoice(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    before = client.v1.subscriptions.retrieve(paid_subscription.subscription)

    stripe_standin.renew(before.id)

    paid = verified_events(stripe_standin, "invoice.paid")
    assert len(paid) == 2
    renewal = paid[-1].data.object
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["parent"]["subscription_details"]["subscription"] == before.id
    assert renewal["id"] != paid_subscription.invoice
    after = client.v1.subscriptions.retrieve(before.id)
    assert after.latest_invoice == renewal["id"]
    old_item, new_item = before["items"].data[0], after["items"].data[0]
    assert new_item.current_period_start == old_item.current_period_end


def test_failed_renewal_makes_the_subscription_past_due(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    stripe_standin.fail_invoice(paid_subscription.subscription)

    [failed] = verified_events(stripe_standin, "invoice.payment_failed")
    assert failed.data.object["status"] == "open"
    assert failed.data.object["billing_reason"] == "subscription_cycle"
    updated = verified_events(stripe_standin, "customer.subscription.updated")[-1]
    assert updated.data.object["status"] == "past_due"
    assert previous(updated)["status"] == "active"


def test_dispute_emits_charge_dispute_created_for_the_charge(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())
    paid = stripe_standin.pay(session.id)
    charge_id = stripe_standin.get(paid["payment_intent"])["latest_charge"]

    stripe_standin.dispute(charge_id)

    [event] = verified_events(stripe_standin, "charge.dispute.created")
    assert event.data.object["charge"] == charge_id
    assert event.data.object["payment_intent"] == paid["payment_intent"]
    assert client.v1.charges.retrieve(charge_id).disputed is True


@pytest.mark.parametrize("status", ["won", "lost"])
def test_closing_a_dispute_emits_charge_dispute_closed_once(
    stripe_standin: StripeStandin, client: stripe.StripeClient, status: str
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())
    paid = stripe_standin.pay(session.id)
    charge_id = stripe_standin.get(paid["payment_intent"])["latest_charge"]
    dispute_id = stripe_standin.dispute(charge_id)["id"]

    stripe_standin.close_dispute(dispute_id, status)

    [event] = verified_events(stripe_standin, "charge.dispute.closed")
    assert (event.data.object["id"], event.data.object["status"]) == (dispute_id, status)
    assert event.data.object["charge"] == charge_id
    with pytest.raises(StripeError, match="already closed"):
        stripe_standin.close_dispute(dispute_id, "won")
    with pytest.raises(StripeError, match="won or lost"):
        stripe_standin.close_dispute(stripe_standin.dispute(charge_id)["id"], "maybe")


def test_refunds_emit_charge_refunded_and_cannot_exceed_the_charge(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())
    intent_id = stripe_standin.pay(session.id)["payment_intent"]

    partial = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1000})
    rest = client.v1.refunds.create(params={"payment_intent": intent_id})

    assert (partial.amount, rest.amount, rest.status) == (1000, 1500, "succeeded")
    refunded = verified_events(stripe_standin, "charge.refunded")
    assert [e.data.object["amount_refunded"] for e in refunded] == [1000, 2500]
    assert refunded[-1].data.object["refunded"] is True
    assert refunded[-1].request is not None
    assert refunded[-1].request.id is not None
    with pytest.raises(stripe.InvalidRequestError) as third_refund:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1})
    assert third_refund.value.code == "charge_already_refunded"


def test_events_can_be_listed_and_retrieved_through_the_api_like_stripes(
    stripe_standin: StripeStandin, client: stripe.StripeClient, paid_subscription: Any
) -> None:
    listed = client.v1.events.list(params={"type": "invoice.paid", "limit": 5})
    newest_first = client.v1.events.list(params={"limit": 2})

    [paid] = listed.data
    assert paid.id == stripe_standin.events("invoice.paid")[0]["id"]
    assert client.v1.events.retrieve(paid.id).data.object["id"] == paid_subscription.invoice
    assert [e.type for e in newest_first.data] == [
        "checkout.session.completed", "invoice.payment_succeeded",
    ]  # fmt: skip
    assert newest_first.has_more is True
