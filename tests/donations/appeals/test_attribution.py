"""A checkout from variant B carries B in the Checkout Session's metadata; the signed
`checkout.session.completed` counts one gift for B, once, whatever is replayed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from donations.appeals.models import CountedCheckout, VariantDay, VariantGifts
from donations.appeals.services.counting import fold_counters
from donations.standin import StripeStandin
from tests.donations.appeals.experiments import two_variants
from tests.donations.flow import checkout, deliver_all
from tests.donations.stripe_events import post_event

pytestmark = pytest.mark.django_db


def test_checkout_from_variant_b_is_counted_once_for_b_even_when_replayed(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    _, (a, b) = two_variants()
    session_id = checkout(client, variant=str(b.pk), amount="8", currency="usd")

    [created] = [r for r in stripe_standin.requests("/v1/checkout/sessions")
                 if r["method"] == "POST"]  # fmt: skip
    assert created["params"]["metadata"]["appeal_variant"] == str(b.pk)
    assert created["params"]["subscription_data"]["metadata"]["appeal_variant"] == str(b.pk)

    stripe_standin.pay(session_id, email="giver@example.org")
    deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)  # every event again

    [completed] = stripe_standin.events("checkout.session.completed")
    assert completed["data"]["object"]["metadata"]["appeal_variant"] == str(b.pk)
    # a new event id for the same session (as a later async_payment_succeeded would be)
    again = {**completed, "id": "evt_same_session_other_event"}
    assert post_event(client, again).status_code == 200

    [row] = VariantGifts.objects.all()
    assert (row.variant_id, row.gifts, row.amount) == (b.pk, 1, Decimal("8.00"))
    assert (row.frequency, row.currency) == ("monthly", "usd")
    assert CountedCheckout.objects.count() == 1
    assert session_id not in CountedCheckout.objects.get().key  # a keyed hash, not the id
    fold_counters()
    assert VariantDay.objects.get(variant=b).checkouts == 1
    assert not VariantDay.objects.filter(variant=a).exists()


def test_an_unpaid_bank_debit_counts_when_it_succeeds_not_before(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    _, (a, _b) = two_variants()
    session_id = checkout(client, variant=str(a.pk), frequency="once", amount="25")
    stripe_standin.pay(session_id, delayed=True, email="debit@example.org")
    seen = deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    assert not VariantGifts.objects.exists()
    stripe_standin.settle(session_id)
    deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    assert VariantGifts.objects.get().gifts == 1


def test_a_variant_not_in_the_running_experiment_is_not_sent_to_stripe(
    client: Client, stripe_standin: StripeStandin
) -> None:
    two_variants()
    checkout(client, variant="424242")
    [created] = [r for r in stripe_standin.requests("/v1/checkout/sessions")
                 if r["method"] == "POST"]  # fmt: skip
    assert "appeal_variant" not in created["params"]["metadata"]
    assert json.dumps(created["params"]).count("424242") == 0
