"""Stripe's error shapes, as the real SDK raises them: auth, missing objects, outages."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import stripe
from django.conf import settings

from donations.standin import StripeStandin
from tests.donations.standin.conftest import donation_params


def _client(standin: StripeStandin, key: str, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": standin.url}, max_network_retries=retries
    )


def test_request_without_api_key_gets_401_in_stripes_error_shape(
    stripe_standin: StripeStandin,
) -> None:
    url = f"{stripe_standin.url}/v1/customers"
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - loopback

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)  # noqa: S310 - loopback

    with raised.value as response:
        body = json.loads(response.read())
    assert raised.value.code == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("You did not provide an API key.")


def test_live_or_publishable_api_key_is_an_authentication_error(
    stripe_standin: StripeStandin,
) -> None:
    for key in ("sk_live_real_money_0000", "pk_test_publishable"):
        with pytest.raises(stripe.AuthenticationError) as raised:
            _client(stripe_standin, key).v1.customers.create(params={"email": "a@example.org"})
        assert raised.value.http_status == 401
        assert key not in str(raised.value.user_message)  # Stripe masks the key
    assert not stripe_standin.events()


def test_configured_api_key_must_match(stripe_standin: StripeStandin) -> None:
    stripe_standin.api_key = "sk_test_the_right_one"

    with pytest.raises(stripe.AuthenticationError):
        _client(stripe_standin, "sk_test_another_one").v1.customers.create()
    assert _client(stripe_standin, "sk_test_the_right_one").v1.customers.create().id


def test_unknown_object_is_invalid_request_error_404_resource_missing(
    stripe_standin: StripeStandin,
) -> None:
    client = _client(stripe_standin, settings.STRIPE_SECRET_KEY)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.retrieve("sub_does_not_exist")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
    assert raised.value.error is not None
    assert raised.value.error.message == "No such subscription: 'sub_does_not_exist'"


def test_fail_next_500_is_an_api_error_and_creates_nothing(
    stripe_standin: StripeStandin,
) -> None:
    stripe_standin.fail_next(500)

    with pytest.raises(stripe.APIError) as raised:
        _client(stripe_standin, settings.STRIPE_SECRET_KEY).v1.checkout.sessions.create(
            params=donation_params()
        )

    assert raised.value.http_status == 500
    assert not stripe_standin.store.find("checkout.session")


def test_fail_next_402_is_a_card_error_with_its_decline_code(
    stripe_standin: StripeStandin,
) -> None:
    stripe_standin.fail_next(402, "card_declined")

    with pytest.raises(stripe.CardError) as raised:
        _client(stripe_standin, settings.STRIPE_SECRET_KEY).v1.customers.create()

    assert raised.value.code == "card_declined"
    assert raised.value.error is not None
    assert raised.value.error.decline_code


def test_fail_next_429_is_a_rate_limit_error(stripe_standin: StripeStandin) -> None:
    stripe_standin.fail_next(429)

    with pytest.raises(stripe.RateLimitError):
        _client(stripe_standin, settings.STRIPE_SECRET_KEY).v1.customers.create()


def test_dropped_connection_is_an_api_connection_error(stripe_standin: StripeStandin) -> None:
    stripe_standin.fail_next(drop=True)

    with pytest.raises(stripe.APIConnectionError):
        _client(stripe_standin, settings.STRIPE_SECRET_KEY).v1.checkout.sessions.create(
            params=donation_params()
        )

    assert not stripe_standin.store.find("checkout.session")
    [attempt] = stripe_standin.requests("/v1/checkout/sessions")
    assert attempt["dropped"] is True
    assert attempt["status"] is None


def test_sdk_retry_after_a_500_reuses_the_idempotency_key_and_creates_once(
    stripe_standin: StripeStandin,
) -> None:
    stripe_standin.fail_next(500)
    client = _client(stripe_standin, settings.STRIPE_SECRET_KEY, retries=2)

    session = client.v1.checkout.sessions.create(
        params=donation_params(), options={"idempotency_key": "retry-me"}
    )

    attempts = stripe_standin.requests("/v1/checkout/sessions")
    assert [a["status"] for a in attempts] == [500, 200]
    assert {a["idempotency_key"] for a in attempts} == {"retry-me"}
    assert [s["id"] for s in stripe_standin.store.find("checkout.session")] == [session.id]


def test_fail_next_over_http_applies_to_the_next_calls_only(
    stripe_standin: StripeStandin,
) -> None:
    body = json.dumps({"status": 500, "times": 2}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{stripe_standin.url}/_standin/fail-next", data=body, method="POST"
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
        assert response.status == 200
    client = _client(stripe_standin, settings.STRIPE_SECRET_KEY)

    for _ in range(2):
        with pytest.raises(stripe.APIError):
            client.v1.customers.create()
    assert client.v1.customers.create().id.startswith("cus_")
