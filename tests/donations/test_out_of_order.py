"""Stripe promises no delivery order: a refund or dispute can reach us before the payment it
is about. Over real HTTP, with the stand-in's own retries, the final state is the same."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from donations import stripe_client
from donations.models import Donation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.flow import checkout

pytestmark = pytest.mark.django_db(transaction=True)


def test_refund_and_dispute_delivered_before_their_payment_end_in_the_same_state(
    stripe_standin_webhooks: StripeStandin, settings: Any
) -> None:
    settings.STAFF_NOTIFICATION_EMAILS = ["editor@example.org"]
    standin = stripe_standin_webhooks
    standin.hold_webhooks()
    paid = standin.pay(checkout(Client(), frequency="once", amount="25"), email="r@example.org")
    intent = str(paid["payment_intent"])
    charge = str(standin.get(intent)["latest_charge"])
    stripe_client.refund_create(payment_intent_id=intent, idempotency_key="refund-test")
    standin.dispute(charge)

    sent = standin.release_webhooks("reversed")  # dispute, refund, then the payment
    standin.wait_for_webhooks()

    answers = {(a["event_id"], a["status"]) for a in standin.webhook_attempts()}
    assert (sent[0], 503) in answers  # retried, then applied
    assert (sent[0], 200) in answers
    assert StripeEvent.objects.count() == len(sent)
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.DISPUTED
    assert donation.amount_refunded == donation.amount
    assert donation.stripe_charge_id == charge
    assert sorted(m.to[0] for m in mail.outbox) == ["editor@example.org", "r@example.org"]
