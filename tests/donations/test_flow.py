"""The reader's whole flow in process: our checkout -> the Stripe stand-in -> its signed
events posted to our webhook (in Stripe's order, then all again) -> one gift, one receipt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from donations.models import Donation, RecurringDonation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.flow import checkout as _checkout
from tests.donations.flow import deliver_all as _deliver_all
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db


def test_monthly_gift_from_banner_to_receipt_over_real_smtp_once_per_payment(
    client: Client,
    stripe_standin: StripeStandin,
    smtp_server: SMTPServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    session_id = _checkout(client)
    stripe_standin.pay(session_id, email="Reader@Example.org")
    seen = _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)  # Stripe resends

    recurring = RecurringDonation.objects.get()
    assert recurring.status == RecurringDonation.Status.ACTIVE
    donation = Donation.objects.get()
    assert (donation.amount, donation.status) == (Decimal("5.00"), Donation.Status.PAID)
    assert donation.stripe_checkout_session_id == session_id
    assert smtp_server.recipients() == ["reader@example.org"]
    receipt = smtp_server.messages[0].message
    body = receipt.get_content()
    assert "5.00 USD" in body
    assert "Monthly" in body
    assert "/support/manage/" in body

    thank_you = client.get(f"/support/thank-you/?session_id={session_id}").content.decode()
    assert "5.00 USD" in thank_you
    assert "monthly" in thank_you

    stripe_standin.renew(recurring.stripe_subscription_id)
    _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    assert Donation.objects.filter(recurring=recurring, status="paid").count() == 2
    assert len(smtp_server.messages) == 2
    assert StripeEvent.objects.count() == len(stripe_standin.events())


def test_delayed_bank_payment_gets_its_receipt_only_when_it_settles(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    session_id = _checkout(client, frequency="once", amount="25")
    stripe_standin.pay(session_id, delayed=True, email="bank@example.org")
    seen = _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    assert Donation.objects.get().status == Donation.Status.PENDING
    assert mail.outbox == []
    page = client.get(f"/support/thank-you/?session_id={session_id}").content.decode()
    assert "being processed" in page

    stripe_standin.settle(session_id)
    _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    assert Donation.objects.get().status == Donation.Status.PAID
    assert len(mail.outbox) == 1


def test_thank_you_page_asks_stripe_when_the_webhook_has_not_arrived(
    client: Client, stripe_standin: StripeStandin
) -> None:
    session_id = _checkout(client, frequency="annual", amount="100", currency="eur")
    stripe_standin.pay(session_id, email="early@example.org")
    page = client.get(f"/support/thank-you/?session_id={session_id}").content.decode()
    assert "100.00 EUR" in page
    assert "annual" in page
    assert 'action="/newsletter/"' in page  # the newsletter sign-up is offered
    assert "early@example.org" not in page  # nobody's address on a page a link can open
    assert not Donation.objects.exists()


def test_thank_you_page_without_a_valid_session_is_generic(client: Client) -> None:
    response = client.get("/support/thank-you/?session_id=../../etc")
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()


def test_failed_renewal_then_cancel_end_the_gift_with_one_fix_your_card_email(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    session_id = _checkout(client)
    stripe_standin.pay(session_id, email="card@example.org")
    seen = _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    recurring = RecurringDonation.objects.get()
    mail.outbox.clear()

    stripe_standin.fail_invoice(recurring.stripe_subscription_id)
    seen = _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    recurring.refresh_from_db()
    assert recurring.status == RecurringDonation.Status.PAST_DUE
    assert len(mail.outbox) == 1
    assert "could not be collected" in mail.outbox[0].subject

    from donations.services.staff import recurring_cancel

    recurring_cancel(recurring=recurring)
    _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    recurring.refresh_from_db()
    assert recurring.status == RecurringDonation.Status.CANCELLED


def test_renewal_event_without_its_payments_gets_the_payment_intent_from_stripe(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    """Invoice events need not carry `payments`; refunds name the payment intent, so a task
    asks Stripe for it."""
    import json

    from tests.donations.stripe_events import post_event

    session_id = _checkout(client)
    stripe_standin.pay(session_id, email="renew@example.org")
    seen = _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    recurring = RecurringDonation.objects.get()
    stripe_standin.renew(recurring.stripe_subscription_id)
    [*_, renewal] = [json.loads(p) for p in stripe_standin.event_payloads("invoice.paid")[-1:]]
    renewal["data"]["object"].pop("payments", None)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, renewal).status_code == 200

    donation = Donation.objects.get(stripe_invoice_id=renewal["data"]["object"]["id"])
    assert donation.stripe_payment_intent_id
    assert donation.stripe_payment_intent_id.startswith("pi_")
    assert seen < len(stripe_standin.events())


def test_monthly_gift_by_bank_debit_is_pending_then_one_paid_gift_when_it_settles(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    session_id = _checkout(client)
    stripe_standin.pay(session_id, delayed=True, email="sepa@example.org")
    seen = _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    assert Donation.objects.get().status == Donation.Status.PENDING  # Stripe: sub "active"
    assert mail.outbox == []

    stripe_standin.settle(session_id)
    _deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    assert Donation.objects.get().status == Donation.Status.PAID
    assert RecurringDonation.objects.get().status == RecurringDonation.Status.ACTIVE
    assert len(mail.outbox) == 1
