"""Webhooks POSTed to a real local HTTP receiver: signed, retried after a failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from django.conf import settings

from donations.standin import StripeStandin
from donations.standin.signing import stripe_signature_header
from tests.donations.standin.conftest import donation_params, post_form, subscription_params


class Receiver(ThreadingHTTPServer):
    """Records each POST; answers with the next status in `answers` (then 200)."""

    daemon_threads = True

    def __init__(self, answers: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.answers = answers
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/stripe/webhook/"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            status = self.server.answers.pop(0) if self.server.answers else 200
            self.server.received.append(
                {"path": self.path, "body": body, "headers": dict(self.headers), "status": status}
            )
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(answers=[])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_events_are_posted_with_a_signature_the_sdk_verifies(
    stripe_standin: StripeStandin, client: stripe.StripeClient, receiver: Receiver
) -> None:
    stripe_standin.webhook_url = receiver.url
    session = client.v1.checkout.sessions.create(params=donation_params())

    stripe_standin.pay(session.id)
    stripe_standin.wait_for_webhooks(timeout=10)

    assert [r["path"] for r in receiver.received] == ["/stripe/webhook/"] * 3
    assert [r["body"] for r in receiver.received] == stripe_standin.event_payloads()
    for received in receiver.received:
        assert received["headers"]["Content-Type"].startswith("application/json")
        event = stripe.Webhook.construct_event(
            received["body"], received["headers"]["Stripe-Signature"],
            settings.STRIPE_WEBHOOK_SECRET,
        )  # fmt: skip
        assert event.api_version == stripe.api_version
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            receiver.received[0]["body"], receiver.received[0]["headers"]["Stripe-Signature"],
            "whsec_someone_else",
        )  # fmt: skip


def test_a_500_answer_is_retried_until_the_endpoint_accepts(
    stripe_standin: StripeStandin, client: stripe.StripeClient, receiver: Receiver
) -> None:
    stripe_standin.webhooks.retry_delays = (0.05, 0.05, 0.05)
    stripe_standin.webhook_url = receiver.url
    receiver.answers.extend([500, 503])
    customer = client.v1.customers.create(params={"email": "a@example.org"})

    stripe_standin.wait_for_webhooks(timeout=10)

    [event_id] = [e["id"] for e in stripe_standin.events("customer.created")]
    assert [r["status"] for r in receiver.received] == [500, 503, 200]
    assert {r["body"] for r in receiver.received} == set(stripe_standin.event_payloads())
    attempts = stripe_standin.webhook_attempts()
    assert [(a["event_id"], a["attempt"], a["status"]) for a in attempts] == [
        (event_id, 1, 500), (event_id, 2, 503), (event_id, 3, 200),
    ]  # fmt: skip
    assert customer.id in receiver.received[-1]["body"].decode()


def test_an_unreachable_endpoint_is_retried_then_given_up(
    stripe_standin: StripeStandin, client: stripe.StripeClient, receiver: Receiver
) -> None:
    dead_url = receiver.url
    receiver.shutdown()
    receiver.server_close()
    stripe_standin.webhooks.retry_delays = (0.05, 0.05)
    stripe_standin.webhook_url = dead_url

    client.v1.customers.create()
    stripe_standin.wait_for_webhooks(timeout=10)

    attempts = stripe_standin.webhook_attempts()
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["status"] is None and a["error"] for a in attempts)
    assert len(stripe_standin.events()) == 1  # still kept in memory


def test_held_events_are_released_out_of_order_as_stripe_may_deliver_them(
    stripe_standin: StripeStandin, client: stripe.StripeClient, receiver: Receiver
) -> None:
    stripe_standin.webhook_url = receiver.url
    session = client.v1.checkout.sessions.create(params=subscription_params())
    stripe_standin.hold_webhooks()
    stripe_standin.pay(session.id)
    assert receiver.received == []

    sent = stripe_standin.release_webhooks("reversed")
    stripe_standin.wait_for_webhooks(timeout=10)

    emitted = [e["id"] for e in stripe_standin.events()]
    assert sent == emitted[::-1]
    assert [r["body"] for r in receiver.received] == stripe_standin.event_payloads()[::-1]
    first = json.loads(receiver.received[0]["body"])
    assert first["type"] == "checkout.session.completed"


def test_redelivered_event_is_the_same_payload_signed_again(
    stripe_standin: StripeStandin, client: stripe.StripeClient, receiver: Receiver
) -> None:
    stripe_standin.webhook_url = receiver.url
    client.v1.customers.create()
    [event_id] = [e["id"] for e in stripe_standin.events()]

    status, _, _ = post_form(f"{stripe_standin.url}/_standin/events/{event_id}/redeliver", {})
    stripe_standin.wait_for_webhooks(timeout=10)

    assert status == 200
    assert len(receiver.received) == 2
    assert receiver.received[0]["body"] == receiver.received[1]["body"]
    for received in receiver.received:
        stripe.Webhook.construct_event(
            received["body"], received["headers"]["Stripe-Signature"],
            settings.STRIPE_WEBHOOK_SECRET,
        )  # fmt: skip


def test_only_the_endpoints_enabled_event_types_are_posted(
    stripe_standin: StripeStandin, client: stripe.StripeClient, receiver: Receiver
) -> None:
    stripe_standin.webhook_url = receiver.url
    stripe_standin.enabled_events = {"checkout.session.completed", "invoice.paid"}
    session = client.v1.checkout.sessions.create(params=subscription_params())

    stripe_standin.pay(session.id)
    stripe_standin.wait_for_webhooks(timeout=10)

    posted = [json.loads(r["body"])["type"] for r in receiver.received]
    assert posted == ["invoice.paid", "checkout.session.completed"]
    assert len(stripe_standin.events()) > len(posted)  # all kept, only enabled ones sent


def test_signature_helper_matches_the_sdks_own_signer() -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    secret = "whsec_test_newsroom"

    header = stripe_signature_header(payload, secret, timestamp=1_700_000_000)

    expected = stripe.WebhookSignature._compute_signature(f"1700000000.{payload.decode()}", secret)
    assert header == f"t=1700000000,v1={expected}"
