"""Every amount a reader types, through the real form POST: a clear message on the form with
the reader's choices kept and nothing sent to Stripe, or, when it can only mean one amount,
a Checkout Session for exactly that amount (a comma never multiplies)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils.html import escape

from donations.models import Donation, Donor, RecurringChange, RecurringDonation
from donations.standin import StripeStandin
from tests.donations.donor_flow import Donor as Giver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

CHECKOUT = "/support/checkout/"
# Not the form's defaults (monthly, the reader's currency), so a kept choice shows.
CHOICE = {"frequency": "annual", "currency": "eur", "amount": "", "source_page": "/"}

EXPONENT = "without an exponent"
NUMBER = "Enter an amount as a number"
POSITIVE = "Enter an amount greater than zero."
DECIMALS = "at most two decimals"
GROUPED = "without a thousands separator"

REFUSED = [
    ("1e30", EXPONENT),
    ("1e309", EXPONENT),
    ("5e-3", EXPONENT),
    ("1E3", EXPONENT),
    ("NaN", NUMBER),
    ("sNaN", NUMBER),
    ("Infinity", NUMBER),
    ("-Infinity", NUMBER),
    ("-5", POSITIVE),
    ("\u221250", POSITIVE),  # a typographic minus sign
    ("0", POSITIVE),
    ("0.00", POSITIVE),
    ("9" * 25, "The largest gift we take online is €10,000."),
    ("10000.01", "The largest gift we take online is €10,000."),
    ("5", "The smallest annual gift is €10."),
    ("0.001", DECIMALS),
    ("12.345", DECIMALS),
    ("", "Choose an amount or enter your own."),
    ("   ", "Choose an amount or enter your own."),
    ("1,000", "could mean 1.00 or 1000"),
    ("1.000", "could mean 1.00 or 1000"),
    ("5,500", "could mean 5.50 or 5500"),
    ("1,234", GROUPED),
    ("1,000.50", GROUPED),
    ("1.000,50", GROUPED),
    ("1 000", GROUPED),
    ("1'000", GROUPED),
    ("$50", "This gift is in EUR: enter the amount in EUR, without $."),
    ("50 USD", "This gift is in EUR: enter the amount in EUR, without USD."),
    ("50 JPY", "We take gifts in USD, EUR or GBP."),
    ("¥50", "We take gifts in USD, EUR or GBP."),
    ("€50 £", NUMBER),
    ("5\u00b2", NUMBER),  # superscript two: NFKC would make it 52
    ("\u2460\u2464", NUMBER),  # circled digits
    ("abc", NUMBER),
    ("12,50,00", NUMBER),
    ("x" * 200, NUMBER),
]


def _page(response: Any) -> str:
    return str(response.content.decode())


@pytest.mark.parametrize(("typed", "message"), REFUSED)
def test_a_typed_amount_it_cannot_take_is_a_message_on_the_form_with_the_choices_kept(
    client: Client, stripe_standin: StripeStandin, typed: str, message: str
) -> None:
    response = client.post(CHECKOUT, {**CHOICE, "custom_amount": typed})

    page = _page(response)
    assert response.status_code == 400
    assert escape(message) in page
    assert 'role="alert"' in page
    assert 'name="frequency" value="annual" checked' in page
    assert '<option value="eur" selected>' in page
    assert f'name="custom_amount" inputmode="decimal" size="7" value="{escape(typed)}"' in page
    assert stripe_standin.requests() == []
    assert not Donation.objects.exists()
    assert not Donor.objects.exists()


ACCEPTED = [
    ("12.50", "eur", "1250"),
    ("12,50", "eur", "1250"),
    ("12,5", "eur", "1250"),
    ("12.5", "eur", "1250"),
    ("15.", "eur", "1500"),
    ("0015", "eur", "1500"),
    ("15.5000", "eur", "1550"),
    ("1000.000", "eur", "100000"),
    ("\uff11\uff15", "eur", "1500"),  # full-width 15
    ("\uff11\uff15\uff0c\uff15", "eur", "1550"),  # full-width 15,5
    ("\u0661\u0665", "eur", "1500"),  # Arabic-Indic 15
    ("\u0661\u0665\u066b\u0665", "eur", "1550"),  # with the Arabic decimal separator
    ("\u0967\u096b", "eur", "1500"),  # Devanagari 15
    (" 15 ", "eur", "1500"),
    ("€15", "eur", "1500"),
    ("15 €", "eur", "1500"),
    ("15 EUR", "eur", "1500"),
    ("$15", "usd", "1500"),
    ("US$ 15", "usd", "1500"),
    ("15 usd", "usd", "1500"),
    ("£15,50", "gbp", "1550"),
    ("10000", "usd", "1000000"),
]


def _session_amounts(standin: StripeStandin) -> list[str]:
    sessions = [r for r in standin.requests("/v1/checkout/sessions") if r["method"] == "POST"]
    return [s["params"]["line_items"][0]["price_data"]["unit_amount"] for s in sessions]


@pytest.mark.parametrize(("typed", "currency", "minor"), ACCEPTED)
def test_an_amount_that_can_mean_only_one_thing_opens_checkout_for_exactly_that(
    client: Client, stripe_standin: StripeStandin, typed: str, currency: str, minor: str
) -> None:
    form = {**CHOICE, "currency": currency, "custom_amount": typed}
    response = client.post(CHECKOUT, form)

    assert response.status_code == 303
    assert _session_amounts(stripe_standin) == [minor]


def test_the_preset_is_read_by_the_same_rules_when_nothing_is_typed(
    client: Client, stripe_standin: StripeStandin
) -> None:
    client.post(CHECKOUT, {**CHOICE, "amount": "50,5"})
    response = client.post(CHECKOUT, {**CHOICE, "amount": "1e30"})

    assert _session_amounts(stripe_standin) == ["5050"]
    assert response.status_code == 400
    assert EXPONENT in _page(response)


def test_a_typed_amount_wins_over_a_preset_that_no_longer_fits_the_frequency(
    client: Client, stripe_standin: StripeStandin
) -> None:
    """Without JavaScript a reader may switch to annual with a monthly preset still checked
    and type their own amount: the preset is not read at all."""
    response = client.post(CHECKOUT, {**CHOICE, "amount": "5", "custom_amount": "25,5"})

    assert response.status_code == 303
    assert _session_amounts(stripe_standin) == ["2550"]


def test_an_amount_in_a_currency_not_chosen_yet_still_gets_its_own_message(
    client: Client, stripe_standin: StripeStandin
) -> None:
    response = client.post(CHECKOUT, {**CHOICE, "currency": "", "custom_amount": "1e30"})

    page = _page(response)
    assert response.status_code == 400
    assert "Choose a currency." in page
    assert EXPONENT in page
    assert stripe_standin.requests() == []


DONOR_REFUSED = [
    ("1e30", EXPONENT),
    ("1e309", EXPONENT),
    ("5e-3", EXPONENT),
    ("NaN", NUMBER),
    ("Infinity", NUMBER),
    ("-5", POSITIVE),
    ("9" * 25, "The largest gift we take online is $10,000."),
    ("0.001", DECIMALS),
    ("", "Enter the new amount."),
    ("   ", "Enter the new amount."),
    ("1,000", "could mean 1.00 or 1000"),
    ("1.000,50", GROUPED),
    ("€15", "This gift is in USD: enter the amount in USD, without €."),
    ("15 EUR", "This gift is in USD: enter the amount in USD, without EUR."),
    ("5", "The smallest annual gift is $10."),
    ("x" * 200, NUMBER),
]
DONOR_ACCEPTED = [
    ("15,50", "15.50"),
    ("15,5", "15.50"),
    ("\uff11\uff15", "15.00"),  # full-width
    ("\u0661\u0665", "15.00"),  # Arabic-Indic
    ("$15", "15.00"),
    ("15 USD", "15.00"),
]


@override_settings(DONATIONS_CHECKOUT_RATE="10000/m")
def test_the_donor_pages_change_form_reads_amounts_by_the_same_rules(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    """A monthly 5 USD gift asked to become annual: refused amounts are a message on the form
    with the donor's amount and frequency kept; accepted ones are the summary to confirm.
    Neither step calls Stripe."""
    donor = Giver(client, stripe_standin, django_capture_on_commit_callbacks, "g@example.org")
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with donor.at("2026-03-10 10:00Z"):
        url = f"{donor.link()}gifts/{gift.pk}/change/"
        before = len(stripe_standin.requests())
        for typed, message in DONOR_REFUSED:
            response = client.post(url, {"amount": typed, "frequency": "annual"})
            page = _page(response)
            assert (response.status_code, escape(message) in page) == (400, True), typed
            assert f'name="amount" inputmode="decimal" size="7" value="{escape(typed)}"' in page
            assert '<option value="annual" selected>' in page, typed
        for typed, shown in DONOR_ACCEPTED:
            response = client.post(url, {"amount": typed, "frequency": "annual"})
            summary = f"to <strong>{shown} USD annual</strong>"
            assert (response.status_code, summary in _page(response)) == (200, True), typed
    assert len(stripe_standin.requests()) == before
    assert not RecurringChange.objects.exists()
