"""One frequencies table: everything reads it, a Stripe interval it does not name is an error,
and a new row (quarterly) reaches the form, Checkout, the webhook, the figures and the emails
with nothing else changed but its migration (done here by the schema editor) and its minimum."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection, models
from django.test import Client

from donations import figures, frequencies
from donations.appeals.config import forget_process_copy
from donations.appeals.models import AmountLimit, AmountOption, Appeal, VariantGifts
from donations.forms import SupportForm
from donations.models import Donation, FailedPayment, RecurringDonation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.factories import DonorFactory
from tests.donations.stripe_events import stripe_event

pytestmark = pytest.mark.django_db

Deliver = Callable[[dict[str, Any]], int]

QUARTERLY = frequencies.Frequency(
    "quarterly", "Quarterly", adverb="quarterly", gift_words="quarterly gift",
    stripe_interval=("month", 3), months=Decimal(3), product_name="Quarterly support for {site}",
)  # fmt: skip


def subscription_event(
    subscription_id: str, interval: str, count: int, unit_amount: int, **fields: Any
) -> dict[str, Any]:
    """The recorded `customer.subscription.created`, for another subscription and price."""
    event = stripe_event("customer_subscription_created", event_id=f"evt_{subscription_id}")
    subscription = event["data"]["object"]
    item = subscription["items"]["data"][0]
    price = copy.deepcopy(item["price"])
    price.update(id=f"price_{subscription_id}", unit_amount=unit_amount)
    price["recurring"].update(interval=interval, interval_count=count)
    item.update(price=price, subscription=subscription_id)
    subscription.update(id=subscription_id, metadata={}, **fields)
    return event


def test_the_form_the_models_and_the_stripe_mapping_all_come_from_the_table() -> None:
    offered = [(w.data["value"], w.data["label"]) for w in SupportForm()["frequency"].subwidgets]
    assert offered == frequencies.choices()
    for model in (
        Donation,
        RecurringDonation,
        FailedPayment,
        AmountOption,
        AmountLimit,
        VariantGifts,
    ):
        column = model._meta.get_field("frequency")
        assert isinstance(column, models.CharField)
        assert column.choices == frequencies.choices()
        assert column.max_length == max(len(row.value) for row in frequencies.ROWS)
    for row in frequencies.recurring():
        assert row.stripe_interval is not None
        assert frequencies.for_interval(*row.stripe_interval) is row
    assert frequencies.adverbs() == "once, monthly or annually"


def test_every_frequency_has_a_minimum_setting_and_limits_in_the_live_appeal() -> None:
    assert set(settings.DONATIONS_MINIMUMS) == {row.value for row in frequencies.ROWS}
    live = Appeal.objects.get(is_live=True)
    for currency in ("usd", "eur", "gbp"):
        found = set(live.limits.filter(currency=currency).values_list("frequency", flat=True))
        assert found == {row.value for row in frequencies.ROWS}


@pytest.mark.parametrize(("interval", "count"), [("week", 1), ("month", 3), ("year", 2)])
def test_a_stripe_interval_no_row_names_is_an_error_never_a_guess(
    deliver: Deliver, interval: str, count: int
) -> None:
    with pytest.raises(frequencies.UnknownFrequency):
        frequencies.for_interval(interval, count)

    assert deliver(subscription_event("sub_test_odd0001", interval, count, 900)) == 400
    assert not RecurringDonation.objects.exists()
    assert not StripeEvent.objects.exists()  # Stripe retries; a new row would then apply it


def test_a_table_with_a_repeated_interval_or_two_preselected_rows_is_refused() -> None:
    monthly = frequencies.get("monthly")
    with pytest.raises(ValueError, match="interval"):
        frequencies.FrequencyTable((*frequencies.ROWS, QUARTERLY, _renamed(QUARTERLY, "q2")))
    with pytest.raises(ValueError, match="preselected"):
        frequencies.FrequencyTable(
            (*frequencies.ROWS, replace(monthly, value="weekly", stripe_interval=("week", 1)))
        )


def _renamed(row: frequencies.Frequency, value: str) -> frequencies.Frequency:
    return replace(row, value=value)


@pytest.fixture
def quarterly(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """The table with a quarterly row, its minimum (the setting seeds new installs; staff add it
    to the live appeal), and its migration's wider columns (DDL in the test's transaction,
    rolled back after it; SQLite does not enforce the width)."""
    monkeypatch.setattr(
        frequencies, "TABLE", frequencies.FrequencyTable((*frequencies.ROWS, QUARTERLY))
    )
    settings.DONATIONS_MINIMUMS = {**settings.DONATIONS_MINIMUMS, "quarterly": "6"}
    live = Appeal.objects.get(is_live=True)
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            for model in (
                Donation,
                RecurringDonation,
                FailedPayment,
                AmountOption,
                AmountLimit,
                VariantGifts,
            ):
                old = model._meta.get_field("frequency")
                new: models.CharField[str, str] = models.CharField(
                    max_length=len("quarterly"), choices=frequencies.choices()
                )
                new.set_attributes_from_name("frequency")
                new.model = model
                editor.alter_field(model, old, new)
    for currency in ("usd", "eur", "gbp"):
        AmountLimit.objects.create(
            appeal=live, currency=currency, frequency="quarterly", minimum=Decimal(6),
            maximum=Decimal(10000),
        )  # fmt: skip
    forget_process_copy()


@pytest.mark.usefixtures("quarterly")
def test_a_quarterly_row_reaches_the_form_and_checkout_with_a_three_month_price(
    client: Client, stripe_standin: StripeStandin
) -> None:
    page = client.get("/support/").content.decode()
    assert 'value="quarterly"' in page
    assert "Give once, monthly, annually or quarterly." in page

    too_small = {"frequency": "quarterly", "currency": "usd", "amount": "5", "source_page": "/"}
    assert (
        "smallest quarterly gift is $6"
        in client.post("/support/checkout/", too_small).content.decode()
    )
    response = client.post("/support/checkout/", {**too_small, "amount": "15"})

    assert response.status_code == 303
    [created] = [
        r for r in stripe_standin.requests("/v1/checkout/sessions") if r["method"] == "POST"
    ]
    params = created["params"]
    assert params["mode"] == "subscription"
    price = params["line_items"][0]["price_data"]
    assert price["recurring"] == {"interval": "month", "interval_count": "3"}
    assert price["product_data"]["name"].startswith("Quarterly support for")
    assert params["metadata"]["frequency"] == "quarterly"


@pytest.mark.usefixtures("quarterly")
def test_a_quarterly_subscription_is_recorded_counted_in_the_figures_and_named_in_emails(
    deliver: Deliver, client: Client
) -> None:
    DonorFactory(email="reader@example.org", stripe_customer_id="cus_test_monthly0001")
    event = subscription_event("sub_test_quarter1", "month", 3, 1500)
    assert deliver(event) == 200
    recurring = RecurringDonation.objects.get()
    assert (recurring.frequency, recurring.amount, recurring.currency) == (
        "quarterly",
        Decimal("15"),
        "usd",
    )

    assert figures.monthly_recurring_revenue() == {"usd": Decimal("5.00")}
    assert figures.active_recurring_donors()["quarterly"] == 1
    staff = User.objects.create_superuser("staff", "staff@example.org", "pw")
    client.force_login(staff)
    page = client.get("/admin/donations/donation/figures/").content.decode()
    assert "Active quarterly donors" in page

    failed = stripe_event(
        "invoice_payment_failed", customer_email="reader@example.org", amount_due=1500
    )  # the quarterly gift's renewal: its price, its amount
    invoice = failed["data"]["object"]
    invoice["parent"]["subscription_details"]["subscription"] = "sub_test_quarter1"
    invoice["lines"]["data"][0]["pricing"]["price_details"]["price"] = "price_sub_test_quarter1"
    assert deliver(failed) == 200
    [notice] = mail.outbox
    assert "your quarterly gift of 15.00 USD" in notice.body
