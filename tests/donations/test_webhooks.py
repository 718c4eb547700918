from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError
from django.test import Client

from donations.models import Donation, Donor, FailedPayment, RecurringDonation, StripeEvent
from tests.donations.stripe_events import WEBHOOK_PATH, post_event, signature_header, stripe_event

pytestmark = pytest.mark.django_db


def test_missing_signature_is_refused_with_400_and_records_nothing(client: Client) -> None:
    payload = json.dumps(stripe_event("checkout_session_completed_once")).encode()
    response = client.post(WEBHOOK_PATH, data=payload, content_type="application/json")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert not Donation.objects.exists()


def test_signature_from_another_secret_is_refused_with_400(client: Client) -> None:
    response = post_event(client, stripe_event("checkout_session_completed_once"), secret="whsec_x")
    assert response.status_code == 400
    assert not Donation.objects.exists()


def test_tampered_payload_is_refused_with_400(client: Client) -> None:
    payload = json.dumps(stripe_event("checkout_session_completed_once")).encode()
    header = signature_header(payload)
    tampered = payload.replace(b'"amount_total": 2500', b'"amount_total": 1')
    response = client.post(
        WEBHOOK_PATH, data=tampered, content_type="application/json",
        headers={"Stripe-Signature": header},
    )  # fmt: skip
    assert response.status_code == 400


def test_stale_timestamp_beyond_stripe_tolerance_is_refused(client: Client) -> None:
    event = stripe_event("checkout_session_completed_once")
    response = post_event(client, event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert post_event(client, event, timestamp=int(time.time()) - 200).status_code == 200


def test_paid_one_time_checkout_records_donor_and_paid_donation_and_one_receipt(
    deliver: Any,
) -> None:
    assert deliver(stripe_event("checkout_session_completed_once")) == 200

    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PAID
    assert (donation.amount, donation.currency, donation.frequency) == (
        Decimal("25"),
        "usd",
        "once",
    )
    assert donation.stripe_payment_intent_id == "pi_test_once0001"
    assert donation.donor is not None
    assert donation.donor.email == "reader@example.org"
    assert donation.donor.stripe_customer_id == "cus_test_once0001"
    assert donation.receipt_sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader@example.org"]
    assert "25.00 USD" in mail.outbox[0].body


def test_replaying_an_event_100_times_keeps_one_record_one_donation_one_receipt(
    deliver: Any,
) -> None:
    event = stripe_event("checkout_session_completed_once")
    statuses = {deliver(event) for _ in range(100)}

    assert statuses == {200}
    assert StripeEvent.objects.count() == 1
    assert Donation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_new_event_id_for_the_same_payment_does_not_double_it(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_completed_once"))
    deliver(stripe_event("checkout_session_completed_once", event_id="evt_test_resent"))
    assert StripeEvent.objects.count() == 2
    assert Donation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_unpaid_checkout_is_pending_without_receipt_until_async_payment_succeeds(
    deliver: Any,
) -> None:
    deliver(stripe_event("checkout_session_completed_unpaid"))
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PENDING
    assert mail.outbox == []

    deliver(stripe_event("checkout_session_async_payment_succeeded"))
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PAID
    assert len(mail.outbox) == 1


def test_async_payment_failure_marks_the_gift_failed_without_receipt(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_completed_unpaid"))
    deliver(stripe_event("checkout_session_async_payment_failed"))
    assert Donation.objects.get().status == Donation.Status.FAILED
    assert mail.outbox == []


def test_async_success_before_completed_gives_the_same_paid_gift(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_async_payment_succeeded"))
    deliver(stripe_event("checkout_session_completed_unpaid"))
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PAID
    assert len(mail.outbox) == 1


def _monthly_events() -> dict[str, dict[str, Any]]:
    return {
        "checkout": stripe_event("checkout_session_completed_monthly"),
        "invoice": stripe_event("invoice_paid_first"),
        "subscription": stripe_event("customer_subscription_created"),
    }


@pytest.mark.parametrize(
    "order",
    [
        ("checkout", "invoice", "subscription"),
        ("invoice", "checkout", "subscription"),
        ("subscription", "invoice", "checkout"),
        ("invoice", "subscription", "checkout"),
    ],
)
def test_first_invoice_and_checkout_of_a_subscription_are_one_gift_in_any_order(
    deliver: Any, order: tuple[str, ...]
) -> None:
    events = _monthly_events()
    for name in order:
        assert deliver(events[name]) == 200

    recurring = RecurringDonation.objects.get()
    assert recurring.status == RecurringDonation.Status.ACTIVE
    assert (recurring.frequency, recurring.amount) == ("monthly", Decimal("5"))
    assert recurring.donor is not None
    assert recurring.donor.email == "reader@example.org"
    donation = Donation.objects.get()
    assert donation.stripe_checkout_session_id == "cs_test_monthly0001"
    assert donation.stripe_invoice_id == "in_test_first0001"
    assert donation.stripe_payment_intent_id == "pi_test_first0001"
    assert donation.status == Donation.Status.PAID
    assert donation.recurring == recurring
    assert len(mail.outbox) == 1


def test_first_invoice_merges_with_checkout_even_when_the_session_names_no_invoice(
    deliver: Any,
) -> None:
    deliver(stripe_event("invoice_paid_first"))
    deliver(stripe_event("checkout_session_completed_monthly", invoice=None))
    assert Donation.objects.count() == 1


def test_renewal_arriving_before_the_checkout_is_a_second_payment_of_the_same_gift(
    deliver: Any,
) -> None:
    deliver(stripe_event("invoice_paid_renewal"))
    deliver(stripe_event("checkout_session_completed_monthly"))
    deliver(stripe_event("invoice_paid_first"))

    recurring = RecurringDonation.objects.get()
    assert recurring.payments.count() == 2
    invoices = recurring.payments.values_list("stripe_invoice_id", flat=True)
    assert sorted(str(invoice) for invoice in invoices) == [
        "in_test_first0001",
        "in_test_renew0001",
    ]
    assert len(mail.outbox) == 2


def test_refund_marks_the_payment_refunded(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_completed_once"))
    assert deliver(stripe_event("charge_refunded")) == 200
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.REFUNDED
    assert donation.amount_refunded == Decimal("25")
    assert donation.stripe_charge_id == "ch_test_once0001"


def test_partial_refund_keeps_the_payment_paid_and_records_the_amount(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_completed_once"))
    deliver(stripe_event("charge_refunded", amount_refunded=1000, refunded=False))
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PAID
    assert donation.amount_refunded == Decimal("10")


def test_dispute_marks_the_payment_disputed_and_tells_staff_once(
    deliver: Any, settings: Any
) -> None:
    settings.STAFF_NOTIFICATION_EMAILS = ["editor@example.org"]
    deliver(stripe_event("checkout_session_completed_once"))
    mail.outbox.clear()
    assert deliver(stripe_event("charge_dispute_created")) == 200
    deliver(stripe_event("charge_dispute_created", event_id="evt_test_dp_again"))

    assert Donation.objects.get().status == Donation.Status.DISPUTED
    assert [m.to for m in mail.outbox] == [["editor@example.org"]]
    assert "pi_test_once0001" in mail.outbox[0].body
    assert "reader@example.org" not in mail.outbox[0].body


def test_failed_renewal_marks_gift_past_due_and_emails_the_donor_once(deliver: Any) -> None:
    for event in _monthly_events().values():
        deliver(event)
    mail.outbox.clear()

    failure = stripe_event("invoice_payment_failed")
    deliver(failure)
    deliver(stripe_event("invoice_payment_failed", event_id="evt_test_in_fail_retry"))

    assert RecurringDonation.objects.get().status == RecurringDonation.Status.PAST_DUE
    assert FailedPayment.objects.get().notice_sent_at is not None
    assert len(mail.outbox) == 1
    assert "/support/manage/" in mail.outbox[0].body
    assert not Donation.objects.filter(stripe_invoice_id="in_test_fail0001").exists()


def test_cancellation_is_final_even_when_an_older_update_arrives_later(deliver: Any) -> None:
    for event in _monthly_events().values():
        deliver(event)
    deliver(stripe_event("customer_subscription_deleted"))
    deliver(stripe_event("customer_subscription_updated_past_due"))

    recurring = RecurringDonation.objects.get()
    assert recurring.status == RecurringDonation.Status.CANCELLED
    assert recurring.cancelled_at is not None


def test_older_subscription_update_does_not_overwrite_a_newer_one(deliver: Any) -> None:
    deliver(stripe_event("customer_subscription_updated_past_due"))  # created later
    deliver(stripe_event("customer_subscription_created"))  # created earlier, arrives later
    assert RecurringDonation.objects.get().status == RecurringDonation.Status.PAST_DUE


def test_unknown_event_type_is_answered_200_and_ignored(deliver: Any) -> None:
    assert deliver(stripe_event("plan_created_unknown")) == 200
    event = StripeEvent.objects.get()
    assert event.handled is False
    assert not Donation.objects.exists()


def test_database_failure_answers_503_and_leaves_the_event_unrecorded(client: Client) -> None:
    event = stripe_event("checkout_session_completed_once")
    with mock.patch(
        "donations.services.payments.donor_upsert", side_effect=OperationalError("db down")
    ):
        response = post_event(client, event)
    assert response.status_code == 503
    assert not StripeEvent.objects.exists()

    assert post_event(client, event).status_code == 200  # Stripe's retry then succeeds
    assert Donation.objects.count() == 1


def test_event_payloads_are_not_kept_and_donor_data_is_minimal(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_completed_once"))
    event = StripeEvent.objects.get()
    assert "reader@example.org" not in json.dumps(
        {f.name: str(getattr(event, f.name)) for f in StripeEvent._meta.fields}
    )
    assert Donor.objects.get().name == "A Reader"


@pytest.mark.parametrize(
    ("early", "status"),
    [("charge_refunded", Donation.Status.REFUNDED), ("charge_dispute_created", "disputed")],
)
def test_refund_or_dispute_before_its_payment_is_retried_until_the_payment_is_recorded(
    deliver: Any, early: str, status: str
) -> None:
    now = int(time.time())
    assert deliver(stripe_event(early, created=now)) == 503  # Stripe will send it again
    assert not StripeEvent.objects.exists()
    assert not Donation.objects.exists()

    deliver(stripe_event("checkout_session_completed_once", created=now))
    assert deliver(stripe_event(early, created=now)) == 200  # the retry

    donation = Donation.objects.get()
    assert donation.status == status
    assert donation.stripe_charge_id == "ch_test_once0001"


def test_refund_of_a_renewal_waits_for_its_payment_intent_then_applies(deliver: Any) -> None:
    now = int(time.time())
    for event in _monthly_events().values():
        deliver(event)
    renewal = stripe_event("invoice_paid_renewal", payments={"object": "list", "data": []})
    with mock.patch("donations.tasks.fill_payment_intent.delay_on_commit"):  # the fill is late
        deliver(renewal)
    paid = Donation.objects.get(stripe_invoice_id=renewal["data"]["object"]["id"])
    assert paid.stripe_payment_intent_id is None
    refund = stripe_event(
        "charge_refunded", created=now, id="ch_test_renewal", payment_intent="pi_test_renewal"
    )
    assert deliver(refund) == 503

    Donation.objects.filter(pk=paid.pk).update(stripe_payment_intent_id="pi_test_renewal")
    assert deliver(refund) == 200
    paid.refresh_from_db()
    assert paid.status == Donation.Status.REFUNDED


def test_refund_for_a_payment_never_recorded_is_accepted_once_stripe_stops_retrying(
    deliver: Any,
) -> None:
    three_days_ago = int(time.time()) - 3 * 86400 - 60
    assert deliver(stripe_event("charge_refunded", created=three_days_ago)) == 200
    assert StripeEvent.objects.filter(type="charge.refunded").count() == 1
    assert not Donation.objects.exists()


@pytest.mark.parametrize(
    "order",
    [("charge_refunded", "charge_dispute_created"), ("charge_dispute_created", "charge_refunded")],
)
def test_refund_and_dispute_in_either_order_end_disputed_with_the_refund_kept_and_staff_told(
    deliver: Any, settings: Any, order: tuple[str, str]
) -> None:
    settings.STAFF_NOTIFICATION_EMAILS = ["editor@example.org"]
    deliver(stripe_event("checkout_session_completed_once"))
    mail.outbox.clear()
    for name in order:
        assert deliver(stripe_event(name)) == 200

    donation = Donation.objects.get()
    assert (donation.status, donation.amount_refunded) == (Donation.Status.DISPUTED, Decimal("25"))
    assert [m.to for m in mail.outbox] == [["editor@example.org"]]


@pytest.mark.parametrize("checkout_first", [True, False])
def test_an_incomplete_subscription_event_of_the_same_second_never_undoes_the_paid_checkout(
    deliver: Any, checkout_first: bool
) -> None:
    second = int(time.time())
    checkout = stripe_event("checkout_session_completed_monthly", created=second)
    incomplete = stripe_event("customer_subscription_created", created=second, status="incomplete")
    for event in (checkout, incomplete) if checkout_first else (incomplete, checkout):
        assert deliver(event) == 200

    assert RecurringDonation.objects.get().status == RecurringDonation.Status.ACTIVE


def test_a_payment_delivered_late_is_dated_when_stripe_took_it_on_the_receipt_too(
    deliver: Any,
) -> None:
    from datetime import UTC, datetime

    taken = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # Stripe retried it for days
    deliver(stripe_event("checkout_session_completed_once", created=int(taken.timestamp())))

    assert Donation.objects.get().paid_at == taken
    [receipt] = mail.outbox
    assert "25.00 USD" in receipt.body
    assert "Once" in receipt.body
    assert "31 October 2026" in receipt.body


def test_a_cancellation_delivered_late_counts_in_the_week_stripe_cancelled_it(
    deliver: Any,
) -> None:
    from datetime import UTC, datetime

    for event in _monthly_events().values():
        deliver(event)
    cancelled = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    deliver(stripe_event("customer_subscription_deleted", created=int(cancelled.timestamp())))

    recurring = RecurringDonation.objects.get()
    assert (recurring.status, recurring.cancelled_at) == ("cancelled", cancelled)
