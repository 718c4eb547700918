from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from donations.models import Donation, Donor, RecurringDonation
from donations.standin import StripeStandin

pytestmark = pytest.mark.django_db

CHECKOUT = "/support/checkout/"
GOOD = {"frequency": "monthly", "currency": "usd", "amount": "5", "source_page": "/"}


def _sessions(standin: StripeStandin) -> list[dict[str, Any]]:
    return [r for r in standin.requests("/v1/checkout/sessions") if r["method"] == "POST"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "-5"}, "greater than zero"),
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "", "custom_amount": "1000000000000"}, "largest gift"),
        ({"amount": "abc"}, "as a number"),
        ({"amount": "", "custom_amount": "NaN"}, "as a number"),
        ({"amount": "5.001"}, "two decimals"),
        ({"amount": "1"}, "smallest monthly gift is $2"),
        ({"frequency": "annual", "amount": "5"}, "smallest annual gift is $10"),
        ({"currency": "jpy"}, "Choose USD, EUR or GBP"),
        ({"currency": ""}, "Choose a currency"),
        ({"frequency": "weekly"}, "once, monthly or annually"),
        ({"frequency": ""}, "Choose how often"),
        ({"amount": "", "custom_amount": ""}, "Choose an amount"),
        ({"website": "http://spam.example"}, "leave this field empty"),
    ],
)
def test_bad_input_rerenders_the_form_with_the_error_and_creates_nothing(
    client: Client, stripe_standin: StripeStandin, changes: dict[str, str], message: str
) -> None:
    response = client.post(CHECKOUT, {**GOOD, **changes})

    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert 'action="/support/checkout/"' in response.content.decode()
    assert _sessions(stripe_standin) == []
    assert not Donation.objects.exists()
    assert not Donor.objects.exists()


def test_custom_amount_wins_over_the_preset(client: Client, stripe_standin: StripeStandin) -> None:
    client.post(CHECKOUT, {**GOOD, "frequency": "once", "amount": "25", "custom_amount": "12.50"})
    params = _sessions(stripe_standin)[0]["params"]
    assert params["line_items"][0]["price_data"]["unit_amount"] == "1250"


def test_monthly_gift_opens_a_subscription_checkout_and_redirects_there(
    client: Client, stripe_standin: StripeStandin
) -> None:
    response = client.post(CHECKOUT, {**GOOD, "attempt": "a" * 32})

    assert response.status_code == 303
    assert response["Location"].startswith(stripe_standin.url + "/pay/cs_")
    [request] = _sessions(stripe_standin)
    params = request["params"]
    assert params["mode"] == "subscription"
    assert params["submit_type"] == "donate"
    price = params["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == ("500", "usd")
    assert price["recurring"]["interval"] == "month"
    assert params["metadata"] == {"frequency": "monthly", "source_page": "/"}
    assert params["subscription_data"]["metadata"]["frequency"] == "monthly"
    assert params["success_url"].endswith("/support/thank-you/?session_id={CHECKOUT_SESSION_ID}")
    assert params["cancel_url"] == "http://testserver/"
    assert "payment_method_types" not in params  # Stripe's dynamic payment methods
    assert request["idempotency_key"].startswith("checkout-")
    assert request["stripe_version"] == "2026-10-28.endive"
    assert not Donation.objects.exists()  # recorded from the webhook, not here


def test_annual_gift_uses_a_yearly_price(client: Client, stripe_standin: StripeStandin) -> None:
    client.post(CHECKOUT, {**GOOD, "frequency": "annual", "amount": "100", "currency": "eur"})
    price = _sessions(stripe_standin)[0]["params"]["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == ("10000", "eur")
    assert price["recurring"]["interval"] == "year"


def test_one_time_gift_is_a_payment_mode_donate_checkout(
    client: Client, stripe_standin: StripeStandin
) -> None:
    client.post(CHECKOUT, {**GOOD, "frequency": "once", "amount": "25", "currency": "gbp"})
    params = _sessions(stripe_standin)[0]["params"]
    assert (params["mode"], params["submit_type"]) == ("payment", "donate")
    assert "recurring" not in params["line_items"][0]["price_data"]
    assert params["payment_intent_data"]["metadata"]["frequency"] == "once"


def test_the_same_submission_twice_reuses_one_idempotency_key_and_session(
    client: Client, stripe_standin: StripeStandin
) -> None:
    form = {**GOOD, "attempt": "b" * 32}
    first = client.post(CHECKOUT, form)
    second = client.post(CHECKOUT, form)
    keys = {r["idempotency_key"] for r in _sessions(stripe_standin)}
    assert len(keys) == 1
    assert first["Location"] == second["Location"]


def test_checkout_redirect_allows_the_stripe_origin_in_form_action(
    client: Client, stripe_standin: StripeStandin
) -> None:
    response = client.post(CHECKOUT, GOOD)
    policy = response["Content-Security-Policy"]
    form_action = next(p for p in policy.split(";") if "form-action" in p)
    assert stripe_standin.url in form_action


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"drop": True}, {"status": 402, "code": "card_declined"}, {"status": 429}],
)
def test_stripe_unreachable_or_refusing_shows_a_calm_retry_page_and_writes_nothing(
    client: Client, stripe_standin: StripeStandin, failure: dict[str, Any]
) -> None:
    stripe_standin.fail_next(**failure, times=5)  # more than the SDK's own retries
    response = client.post(CHECKOUT, {**GOOD, "attempt": "c" * 32})

    assert response.status_code == 503
    page = response.content.decode()
    assert "Nothing was charged" in page
    assert "Try again" in page
    assert 'name="custom_amount" value="5.00"' in page
    assert "Traceback" not in page
    assert "HTTP" not in page
    assert not Donation.objects.exists()
    assert not RecurringDonation.objects.exists()

    stripe_standin.reset()  # Stripe is back
    retry_attempt = page.split('name="attempt" value="', 1)[1].split('"', 1)[0]
    assert len(retry_attempt) == 32
    assert retry_attempt != "c" * 32  # a fresh idempotency key for the retry
    retry = client.post(
        CHECKOUT, {**GOOD, "amount": "", "custom_amount": "5.00", "attempt": retry_attempt}
    )
    assert retry.status_code == 303


def test_checkout_is_rate_limited_per_client_with_a_calm_429(
    client: Client, stripe_standin: StripeStandin, settings: Any
) -> None:
    settings.DONATIONS_CHECKOUT_RATE = "3/m"
    codes = [client.post(CHECKOUT, GOOD).status_code for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    assert len(_sessions(stripe_standin)) == 3
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(CHECKOUT, GOOD).status_code == 303


@pytest.mark.parametrize(
    "source_page",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
     "/news/?next=//evil.example", "news/"],
)  # fmt: skip
def test_a_foreign_or_malformed_source_page_never_becomes_the_cancel_url(
    client: Client, stripe_standin: StripeStandin, source_page: str
) -> None:
    response = client.post(CHECKOUT, {**GOOD, "source_page": source_page})

    assert response.status_code == 303
    params = _sessions(stripe_standin)[0]["params"]
    assert params["cancel_url"] == "http://testserver/support/"
    assert params["metadata"]["source_page"] == ""


def test_the_article_path_the_reader_came_from_is_the_cancel_url_and_metadata(
    client: Client, stripe_standin: StripeStandin
) -> None:
    client.post(CHECKOUT, {**GOOD, "source_page": "/news/2026/court-ruling/"})
    params = _sessions(stripe_standin)[0]["params"]
    assert params["cancel_url"] == "http://testserver/news/2026/court-ruling/"
    assert params["metadata"]["source_page"] == "/news/2026/court-ruling/"
