"""A recurring gift's terms follow what Stripe says, through the signed webhook with the
stand-in as Stripe: a failed renewal that arrives before anything else creates the gift with
its real terms, and a change the donor makes in the Billing Portal reaches the admin, the
figures and the next receipt."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from donations.models import Donation, RecurringDonation
from donations.standin import StripeStandin
from tests.donations.flow import checkout, deliver_all, post_payload

pytestmark = pytest.mark.django_db

FIGURES = "/admin/donations/donation/figures/"


def _post(client: Client, payload: bytes, capture: Any) -> None:
    assert post_payload(client, payload, capture) == 200


def _subscription_id(standin: StripeStandin) -> str:
    return str(standin.events("customer.subscription.created")[-1]["data"]["object"]["id"])


def _no_zero_amounts() -> None:
    for message in mail.outbox:
        assert "0.00" not in str(message.body).replace("120.00", ""), message.body


def test_a_failed_annual_renewal_delivered_first_ends_annual_with_its_amount(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    session_id = checkout(client, frequency="annual", amount="120", currency="eur")
    stripe_standin.pay(session_id, email="donor@example.org")
    stripe_standin.advance_clock(60)
    stripe_standin.fail_invoice(_subscription_id(stripe_standin))
    [failed] = stripe_standin.event_payloads("invoice.payment_failed")

    _post(client, failed, django_capture_on_commit_callbacks)  # before anything else
    gift = RecurringDonation.objects.get()
    assert (gift.frequency, gift.amount, gift.currency) == ("annual", Decimal("120.00"), "eur")
    assert gift.status == RecurringDonation.Status.PAST_DUE
    [notice] = mail.outbox
    assert "your annual gift of 120.00 EUR" in notice.body

    for payload in stripe_standin.event_payloads():
        if payload != failed:
            _post(client, payload, django_capture_on_commit_callbacks)  # then Stripe's order

    gift.refresh_from_db()
    assert (gift.frequency, gift.amount, gift.currency) == ("annual", Decimal("120.00"), "eur")
    assert gift.status == RecurringDonation.Status.PAST_DUE
    payment = Donation.objects.get()
    assert (payment.frequency, payment.amount, payment.currency) == (
        "annual",
        Decimal("120.00"),
        "eur",
    )
    assert len(mail.outbox) == 2  # the notice, then the first payment's receipt
    _no_zero_amounts()


def _staff(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("editor", password="pw-editor-123"))
    return client


def test_a_portal_price_change_shows_in_the_admin_the_figures_and_the_next_receipt(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    stripe_standin.pay(checkout(client, frequency="monthly", amount="5"), email="d@example.org")
    seen = deliver_all(client, stripe_standin, capture)
    sub_id = _subscription_id(stripe_standin)
    staff = _staff(Client())
    gift = RecurringDonation.objects.get()
    assert '<td class="mrr">5.00</td>' in staff.get(FIGURES).content.decode()

    stripe_standin.advance_clock(60)
    stripe_standin.change_price(sub_id, 12000, "year")  # 5 a month -> 120 a year
    seen = deliver_all(client, stripe_standin, capture, skip=seen)

    gift.refresh_from_db()
    assert (gift.frequency, gift.amount, gift.status) == ("annual", Decimal("120.00"), "active")
    page = staff.get(f"/admin/donations/recurringdonation/{gift.pk}/change/").content.decode()
    assert '<div class="readonly">120.00</div>' in page
    assert '<div class="readonly">Annual</div>' in page
    assert f"/prices/{gift.stripe_price_id}" in page
    figures = staff.get(FIGURES).content.decode()
    assert '<td class="mrr">10.00</td>' in figures  # 120 / 12
    assert '<td class="active-annual">1</td>' in figures
    assert '<td class="active-monthly">0</td>' in figures
    receipt = mail.outbox[-1].body  # the new period, invoiced at once by the change
    assert "Amount:    120.00 USD" in receipt
    assert "Frequency: Annual" in receipt

    stripe_standin.advance_clock(60)
    stripe_standin.change_price(sub_id, 15000)  # the amount alone: 150 a year
    seen = deliver_all(client, stripe_standin, capture, skip=seen)
    assert '<td class="mrr">12.50</td>' in staff.get(FIGURES).content.decode()
    stripe_standin.advance_clock(60)
    stripe_standin.renew(sub_id)
    deliver_all(client, stripe_standin, capture, skip=seen)

    receipt = mail.outbox[-1].body
    assert "Amount:    150.00 USD" in receipt
    assert "Frequency: Annual" in receipt
    renewal = Donation.objects.order_by("pk").last()
    assert renewal is not None
    assert (renewal.frequency, renewal.amount) == ("annual", Decimal("150.00"))
    assert (
        json.loads(stripe_standin.event_payloads("invoice.paid")[-1])["data"]["object"][
            "amount_paid"
        ]
        == 15000
    )
