"""One subscription's events delivered in every order give the same gift.

The stand-in plays a whole story: an annual gift of 120 USD is paid at checkout, its renewal
fails, the donor changes it in the Billing Portal to 10 USD a month, then cancels it. Its five
events (subscription created, invoice paid, invoice payment failed, subscription updated with
the new price, subscription deleted) are posted signed to our webhook in all 120 orders. After
each event the stored terms are those of the newest statement delivered so far (see
`donations/services/gift_terms.py`); after the last, the gift and its payments are the same
in every order, and no email ever says 0.00."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from donations import stripe_client
from donations.models import Donation, FailedPayment, RecurringDonation
from donations.standin import StripeStandin
from tests.donations.flow import checkout, post_payload

pytestmark = pytest.mark.django_db

STEP = 60  # seconds of Stripe's clock between the donor's actions
ANNUAL = ("annual", Decimal("120.00"))
MONTHLY = ("monthly", Decimal("10.00"))


def _story(standin: StripeStandin) -> dict[str, bytes]:
    """The five events of one gift, by name, as the stand-in signed them (exact bytes)."""
    standin.pay(checkout(Client(), frequency="annual", amount="120"), email="donor@example.org")
    [sub_id] = [s["data"]["object"]["id"] for s in standin.events("customer.subscription.created")]
    standin.advance_clock(STEP)
    standin.fail_invoice(sub_id)
    standin.advance_clock(STEP)
    standin.change_price(sub_id, 1000, "month")  # the donor, in the portal
    standin.advance_clock(STEP)
    stripe_client.subscription_cancel(sub_id)

    def first(event_type: str, test: Callable[[dict[str, Any]], bool] = bool) -> bytes:
        return next(
            payload
            for payload in standin.event_payloads(event_type)
            if test(json.loads(payload)["data"])
        )

    return {
        "created": first("customer.subscription.created"),
        "paid": first("invoice.paid"),
        "failed": first("invoice.payment_failed"),
        "updated": first(
            "customer.subscription.updated",
            lambda data: data["object"]["items"]["data"][0]["price"]["unit_amount"] == 1000,
        ),
        "deleted": first("customer.subscription.deleted"),
    }


def _terms_stated(payload: bytes) -> tuple[int, int, tuple[str, Decimal]]:
    """The oracle: when an event states its terms (an invoice: its own `created`; a
    subscription event: the event's, ranked above an invoice of the same second), and which."""
    event = json.loads(payload)
    obj = event["data"]["object"]
    if obj["object"] == "invoice":
        amount = obj["lines"]["data"][0]["amount"]
        return obj["created"], 0, ANNUAL if amount == 12000 else MONTHLY
    price = obj["items"]["data"][0]["price"]
    return event["created"], 1, ANNUAL if price["recurring"]["interval"] == "year" else MONTHLY


def _record() -> tuple[Any, ...]:
    gift = RecurringDonation.objects.get()
    payments = tuple(
        Donation.objects.order_by("stripe_invoice_id").values_list(
            "stripe_invoice_id", "frequency", "amount", "currency", "status", "is_first_payment"
        )
    )
    failures = tuple(FailedPayment.objects.values_list("frequency", "amount", "currency"))
    return (
        gift.frequency, gift.amount, gift.currency, gift.status, gift.stripe_price_id,
        gift.next_charge_at, gift.cancelled_at, gift.donor_id is not None, payments, failures,
    )  # fmt: skip


def _post(client: Client, payload: bytes, capture: Any) -> None:
    assert post_payload(client, payload, capture) == 200


def _no_zero_amount(messages: list[Any]) -> None:
    for message in messages:
        body = str(message.body)
        assert " 0.00 " not in body.replace("10.00", "").replace("120.00", "")
        if "could not collect" in body:
            assert "your annual gift of 120.00 USD" in body


def test_one_subscriptions_events_in_all_120_orders_end_in_the_same_gift(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    story = _story(stripe_standin)
    finals: dict[tuple[str, ...], tuple[Any, ...]] = {}

    def deliver_rest(order: tuple[str, ...], newest: tuple[int, int, tuple[str, Decimal]]) -> None:
        """Every continuation of `order`, depth first: each event in a savepoint rolled back
        after, so orders that share a beginning post it once (325 posts, not 600)."""
        if len(order) == len(story):
            finals[order] = _record()
            return
        for name in story:
            if name in order:
                continue
            emails = len(mail.outbox)
            with transaction.atomic():
                _post(client, story[name], django_capture_on_commit_callbacks)
                stated = max(newest, _terms_stated(story[name]))
                gift = RecurringDonation.objects.get()
                assert (gift.frequency, gift.amount) == stated[2], (*order, name)
                _no_zero_amount(mail.outbox[emails:])
                deliver_rest((*order, name), stated)
                transaction.set_rollback(True)
            del mail.outbox[emails:]

    deliver_rest((), (0, 0, ANNUAL))

    assert sorted(finals) == sorted(itertools.permutations(story))
    assert len(set(finals.values())) == 1, list(finals.items())[:3]
    final = finals[tuple(story)]
    assert final[:4] == ("monthly", Decimal("10.00"), "usd", RecurringDonation.Status.CANCELLED)
    paid = json.loads(story["paid"])["data"]["object"]["id"]
    assert final[8] == ((paid, "annual", Decimal("120.00"), "usd", "paid", True),)
    assert final[9] == (("annual", Decimal("120.00"), "usd"),)


def test_every_event_of_the_story_shuffled_ends_as_in_stripes_order(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    """All the story's events (the checkout, the renewal's updates, the new period the change
    of interval invoiced at once, ...), in Stripe's order and in 12 shuffled orders."""
    _story(stripe_standin)
    payloads = stripe_standin.event_payloads()
    finals = []
    for seed in range(13):
        order = list(payloads)
        if seed:
            random.Random(seed).shuffle(order)
        with transaction.atomic():
            for payload in order:
                _post(client, payload, django_capture_on_commit_callbacks)
            finals.append(_record())
            transaction.set_rollback(True)

    assert all(final == finals[0] for final in finals), finals
    assert finals[0][:4] == ("monthly", Decimal("10.00"), "usd", RecurringDonation.Status.CANCELLED)
    assert [(p[1], p[2]) for p in finals[0][8]] in (
        [("annual", Decimal("120.00")), ("monthly", Decimal("10.00"))],
        [("monthly", Decimal("10.00")), ("annual", Decimal("120.00"))],
    )
