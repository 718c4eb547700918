from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
import stripe
from django.conf import settings

from donations.standin import StripeStandin
from donations.standin.signing import stripe_signature_header


@pytest.fixture
def client(stripe_standin: StripeStandin) -> stripe.StripeClient:
    """The real SDK pointed at the stand-in; no SDK retries, so each call is one request."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": stripe_standin.url},
        max_network_retries=0,
    )


def donation_params(**overrides: Any) -> Any:
    """A one-time donation session, as the donations app would create it."""
    params: dict[str, Any] = {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 2500,
                    "product_data": {"name": "One-time donation"},
                },
            }
        ],
        "success_url": "http://testserver/support/thanks/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://testserver/support/",
        "customer_email": "reader@example.org",
        "metadata": {"frequency": "once"},
        "payment_intent_data": {"metadata": {"frequency": "once"}},
    }
    params.update(overrides)
    return params


def subscription_params(interval: str = "month", **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "subscription",
        "submit_type": "donate",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1000,
                    "product_data": {"name": "Monthly donation"},
                    "recurring": {"interval": interval},
                },
            }
        ],
        "success_url": "http://testserver/support/thanks/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://testserver/support/",
        "customer_email": "reader@example.org",
        "metadata": {"frequency": "monthly"},
        "subscription_data": {"metadata": {"frequency": "monthly"}},
    }
    params.update(overrides)
    return params


def verified_events(standin: StripeStandin, type: str | None = None) -> list[stripe.Event]:
    """Every recorded event, parsed through the SDK's own signature check with the test secret."""
    events = []
    for payload in standin.event_payloads(type):
        header = stripe_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET)
        events.append(
            stripe.Webhook.construct_event(payload, header, settings.STRIPE_WEBHOOK_SECRET)
        )
    return events


def previous(event: stripe.Event) -> dict[str, Any]:
    """An `*.updated` event's `data.previous_attributes`."""
    attributes = event.data.previous_attributes
    assert attributes is not None
    return attributes.to_dict()


@pytest.fixture
def paid_subscription(stripe_standin: StripeStandin, client: stripe.StripeClient) -> Any:
    """A monthly donation paid on the hosted page: the checkout session after payment."""
    session = client.v1.checkout.sessions.create(params=subscription_params())
    stripe_standin.pay(session.id)
    return client.v1.checkout.sessions.retrieve(session.id)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_form(url: str, fields: dict[str, str]) -> tuple[int, str, str]:
    """POST a form as a browser would; returns (status, Location, body) without following."""
    opener = urllib.request.build_opener(_NoRedirect)
    data = urllib.parse.urlencode(fields).encode()
    try:
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - loopback
        with opener.open(request) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers.get("Location", ""), exc.read().decode()


def get_page(url: str) -> str:
    with urllib.request.urlopen(url) as response:  # noqa: S310 - the stand-in on loopback
        return str(response.read().decode())
