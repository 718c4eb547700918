"""The stand-in against the running site: its signed events are accepted by
`/stripe/webhook/`, and its hosted page works in a real browser."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from donations.standin import StripeStandin
from tests.donations.standin.conftest import donation_params


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("frequency", "order"), [("once", "emitted"), ("monthly", "emitted"), ("monthly", "reversed")]
)
def test_every_event_of_a_payment_is_accepted_by_the_sites_webhook(
    stripe_standin_webhooks: StripeStandin, frequency: str, order: str
) -> None:
    from donations import stripe_client

    standin = stripe_standin_webhooks
    from donations import frequencies

    interval = frequencies.get(frequency).stripe_interval
    recurring = stripe_client.Recurring(*interval) if interval else None
    session = stripe_client.checkout_session_create(
        recurring=recurring, amount=Decimal("12.50"), currency="eur", product_name="Donation",
        metadata={"frequency": frequency}, success_url="http://testserver/ok",
        cancel_url="http://testserver/", idempotency_key=f"live-{frequency}-{order}",
    )  # fmt: skip
    standin.hold_webhooks()
    standin.pay(session.id, email="reader@example.org")
    subscription = standin.get(session.id)["subscription"]
    if subscription:
        standin.renew(subscription)

    standin.release_webhooks(order)  # Stripe promises no order
    standin.wait_for_webhooks(timeout=60)

    # Stripe retries a 5xx, so an event counts as accepted when its last attempt got a 200.
    last = {a["event_id"]: (a["status"], a["error"]) for a in standin.webhook_attempts()}
    assert {event["id"]: last.get(event["id"]) for event in standin.events()} == {
        event["id"]: (200, None) for event in standin.events()
    }


@pytest.mark.browser
def test_hosted_checkout_page_pays_in_a_real_browser(
    chromium_browser: Any, stripe_standin: StripeStandin
) -> None:
    import stripe

    client = stripe.StripeClient(
        "sk_test_browser", base_addresses={"api": stripe_standin.url}, max_network_retries=0
    )
    success = f"{stripe_standin.url}/healthz?paid={{CHECKOUT_SESSION_ID}}"
    session = client.v1.checkout.sessions.create(
        params=donation_params(success_url=success, customer_email=None)
    )
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(str(session.url))
        assert page.get_by_role("note").inner_text() == "Demo payment — no money moves"
        assert "25.00 EUR" in page.content()
        assert "one-time" in page.content()
        page.get_by_label("Email").fill("browser@example.org")
        page.get_by_role("button", name="Pay", exact=True).click()
        page.wait_for_url(f"{stripe_standin.url}/healthz?paid={session.id}")
    finally:
        context.close()
    paid = stripe_standin.get(session.id)
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert paid["customer_details"]["email"] == "browser@example.org"
