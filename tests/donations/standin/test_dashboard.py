"""The demo operator's page at `/`: later events at the press of a button."""

from __future__ import annotations

import stripe

from donations.standin import StripeStandin
from tests.donations.standin.conftest import (
    donation_params,
    get_page,
    post_form,
    subscription_params,
)


def _press(standin: StripeStandin, kind: str, object_id: str, action: str) -> str:
    status, location, _ = post_form(
        f"{standin.url}/", {"kind": kind, "id": object_id, "action": action}
    )
    assert status == 303
    return get_page(standin.url + location)


def test_dashboard_settles_a_bank_debit_and_shows_no_email_address(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=donation_params())
    stripe_standin.pay(session.id, delayed=True)
    page = get_page(f"{stripe_standin.url}/")
    assert "Demo payment — no money moves" in page
    assert "Settle: paid" in page
    assert "@" not in page

    after = _press(stripe_standin, "session", session.id, "settle")

    assert "Done: settle" in after
    assert "Settle: paid" not in after
    [event] = stripe_standin.events("checkout.session.async_payment_succeeded")
    assert event["data"]["object"]["id"] == session.id


def test_dashboard_renews_fails_refunds_and_disputes(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    sub_id = stripe_standin.pay(session.id)["subscription"]

    _press(stripe_standin, "subscription", sub_id, "renew")
    _press(stripe_standin, "subscription", sub_id, "fail")
    charge_id = stripe_standin.store.find("charge", status="succeeded")[0]["id"]
    _press(stripe_standin, "charge", charge_id, "refund")
    page = _press(stripe_standin, "charge", charge_id, "dispute")

    types = [e["type"] for e in stripe_standin.events()]
    assert types.count("invoice.paid") == 2
    assert "invoice.payment_failed" in types
    assert "charge.refunded" in types
    assert "charge.dispute.created" in types
    assert "past_due" in page
    assert "(disputed)" in page


def test_dashboard_and_control_api_expire_an_open_session(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    first = client.v1.checkout.sessions.create(params=donation_params())
    second = client.v1.checkout.sessions.create(params=donation_params())
    assert "Expire" in get_page(f"{stripe_standin.url}/")

    _press(stripe_standin, "session", first.id, "expire")
    status, _, _ = post_form(f"{stripe_standin.url}/_standin/sessions/{second.id}/expire", {})

    assert status == 200
    expired = [e["data"]["object"]["id"] for e in stripe_standin.events("checkout.session.expired")]
    assert expired == [first.id, second.id]
    assert "is expired" in get_page(str(first.url))


def test_dashboard_refuses_an_impossible_action_with_a_notice(
    stripe_standin: StripeStandin,
) -> None:
    page = _press(stripe_standin, "subscription", "sub_unknown", "renew")

    assert "Refused: No such subscription" in page
    assert stripe_standin.events() == []


def test_dashboard_and_control_api_close_a_dispute_as_won_or_lost(
    stripe_standin: StripeStandin, client: stripe.StripeClient
) -> None:
    charges = []
    for _ in range(2):
        session = client.v1.checkout.sessions.create(params=donation_params())
        intent = stripe_standin.pay(session.id)["payment_intent"]
        charges.append(stripe_standin.get(intent)["latest_charge"])
    won, lost = (stripe_standin.dispute(charge)["id"] for charge in charges)
    assert get_page(f"{stripe_standin.url}/").count("Dispute won") == 2

    page = _press(stripe_standin, "dispute", won, "win")
    status, _, _ = post_form(
        f"{stripe_standin.url}/_standin/disputes/{lost}/close", {"status": "lost"}
    )

    assert status == 200
    assert "Done: win" in page
    assert "(dispute won)" in page
    assert "(dispute lost)" in get_page(f"{stripe_standin.url}/")
    assert "Dispute won" not in get_page(f"{stripe_standin.url}/")
    closed = [e["data"]["object"] for e in stripe_standin.events("charge.dispute.closed")]
    assert sorted((dp["id"], dp["status"]) for dp in closed) == sorted(
        [(won, "won"), (lost, "lost")]
    )
