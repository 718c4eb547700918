"""Stripe sends the same event, or two events about one payment, at the same moment: the
database (unique ids, row locks) keeps one record. PostgreSQL only: SQLite has one writer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from donations.models import Donation, RecurringDonation, StripeEvent
from donations.standin import StripeStandin
from donations.webhooks import stripe_event_process
from tests.donations.stripe_events import parsed_event
from tests.services import need_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(calls: list[Callable[[], Any]]) -> list[BaseException]:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as error:  # noqa: BLE001 - whatever a thread raises is collected for the test to assert on
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_the_same_event_delivered_eight_times_at_once_is_recorded_once() -> None:
    need_postgresql()
    event = parsed_event("checkout_session_completed_once")
    errors = _at_once([lambda: stripe_event_process(event=event) for _ in range(8)])
    assert errors == []
    assert StripeEvent.objects.count() == 1
    assert Donation.objects.count() == 1


def test_checkout_and_first_invoice_at_the_same_moment_make_one_payment(
    recorded_stripe: StripeStandin,
) -> None:
    need_postgresql()
    events = [
        parsed_event("checkout_session_completed_monthly"),
        parsed_event("invoice_paid_first"),
        parsed_event("customer_subscription_created"),
    ]
    errors = _at_once([partial(stripe_event_process, event=event) for event in events])
    assert errors == []
    assert RecurringDonation.objects.count() == 1
    assert Donation.objects.count() == 1
    assert Donation.objects.get().stripe_checkout_session_id == "cs_test_monthly0001"
