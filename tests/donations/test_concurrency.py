"""Stripe sends the same event, or two events about one payment, at the same moment: the
database (unique ids, row locks) keeps one record. PostgreSQL only: SQLite has one writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.db import connection, transaction

from donations.models import Donation, Donor, RecurringDonation, StripeEvent
from donations.services.payments import donation_upsert
from donations.services.recurring import recurring_lock
from donations.standin import StripeStandin
from donations.webhooks import stripe_event_process
from newsroom.personal_data import personal_data_erase
from tests.donations.factories import RecurringDonationFactory
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


def _until_a_transaction_waits_for_a_lock() -> None:
    with connection.cursor() as cursor:
        for _ in range(500):
            cursor.execute(  # a backend that waits for a lock this transaction holds
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the erasure never waited for the gift's lock")


def test_a_renewal_recorded_while_its_donor_erases_their_data_neither_deadlocks_nor_fails(
    stripe_standin: StripeStandin,
) -> None:
    """The webhook locks the gift, then inserts the payment (whose foreign key locks the donor
    KEY SHARE); the erasure locks the donor, then the gift. Both commit, at once."""
    need_postgresql()
    RecurringDonationFactory()
    gift = RecurringDonation.objects.get()
    donor = Donor.objects.get(recurring=gift)
    gift_locked = threading.Event()

    def renewal() -> None:
        with transaction.atomic():
            recurring = recurring_lock(
                subscription_id=gift.stripe_subscription_id, terms=_unused, donor=donor
            )
            gift_locked.set()
            _until_a_transaction_waits_for_a_lock()  # the erasure, on the gift
            donation_upsert(
                ids={"stripe_invoice_id": "in_renewal_during_erasure"},
                status=Donation.Status.PAID,
                frequency="monthly",
                amount=Decimal("5.00"),
                currency="usd",
                donor=donor,
                recurring=recurring,
            )

    errors: list[BaseException] = []
    thread = threading.Thread(target=_collecting(renewal, errors))
    thread.start()
    assert gift_locked.wait(timeout=10)
    started = time.monotonic()
    personal_data_erase(donor=donor)
    thread.join(timeout=30)

    assert errors == []
    assert time.monotonic() - started < 1  # deadlock_timeout (1 s) never ran out: no deadlock
    erased = Donor.objects.get(pk=donor.pk)
    assert (erased.email, erased.erased_at is not None) == (None, True)
    assert Donation.objects.get().donor_id == donor.pk
    assert RecurringDonation.objects.get().status == RecurringDonation.Status.CANCELLED


def _unused() -> Any:
    raise AssertionError("the gift is recorded: no terms are asked for")


def _collecting(call: Callable[[], Any], errors: list[BaseException]) -> Callable[[], None]:
    def run() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - collected for the test to assert on
            errors.append(error)
        finally:
            connection.close()

    return run
