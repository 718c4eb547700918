"""The Stripe boundary: a signed event is parsed once into typed objects; one we cannot use is a
400 at the door (logged with its event id), never a 500 or a KeyError in a handler. Every
case goes through the real view with a real `Stripe-Signature`."""

from __future__ import annotations

import ast
import copy
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donations.models import Donation, RecurringDonation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.stripe_events import FIXTURES, post_event, stripe_event

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _set(event: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("name", "path", "value", "field"),
    [
        ("checkout_session_completed_once", ("type",), ["checkout.session.completed"], "type"),
        ("checkout_session_completed_once", ("data",), "not an object", "data"),
        ("checkout_session_completed_once", ("created",), "yesterday", "created"),
        ("checkout_session_completed_once", ("created",), 10**20, "created"),
        ("checkout_session_completed_once", ("livemode",), "no", "livemode"),
        ("checkout_session_completed_once", ("data", "object", "id"), None, "data.object.id"),
        ("checkout_session_completed_once", ("data", "object", "amount_total"), "25", "amount"),
        ("checkout_session_completed_once", ("data", "object", "amount_total"), -5, "amount"),
        ("checkout_session_completed_once", ("data", "object", "amount_total"), 10**13, "amount"),
        ("checkout_session_completed_once", ("data", "object", "currency"), "xyz", "currency"),
        ("checkout_session_completed_once", ("data", "object", "currency"), 840, "currency"),
        ("checkout_session_completed_once", ("data", "object", "metadata"), [], "metadata"),
        ("checkout_session_completed_once", ("data", "object", "customer"), "cus \x00", "custom"),
        ("invoice_paid_first", ("data", "object", "amount_paid"), 5.5, "amount_paid"),
        ("invoice_paid_first", ("data", "object", "lines"), {"data": "x"}, "lines.data"),
        ("charge_refunded", ("data", "object", "refunded"), "yes", "refunded"),
        ("charge_refunded", ("data", "object", "amount_refunded"), None, "amount_refunded"),
        ("customer_subscription_created", ("data", "object", "items"), [1], "items"),
        ("customer_subscription_created", ("data", "object", "object"), "charge", "object"),
    ],
)
def test_a_signed_event_with_a_field_we_cannot_use_is_a_400_logged_with_its_id(
    client: Client,
    caplog: pytest.LogCaptureFixture,
    name: str,
    path: tuple[str, ...],
    value: Any,
    field: str,
) -> None:
    event = _set(stripe_event(name), path, value)
    with caplog.at_level(logging.INFO):
        response = post_event(client, event)

    assert response.status_code == 400
    assert json.loads(response.content) == {"error": "malformed Stripe object"}
    assert not StripeEvent.objects.exists()
    assert not Donation.objects.exists()
    [refused] = [r for r in caplog.records if r.getMessage().startswith("stripe webhook")]
    assert refused.levelno == logging.WARNING
    assert refused.__dict__["stripe_event"] == event["id"]
    assert field in refused.__dict__["field"]


def test_a_signed_event_without_an_id_is_a_400_logged_without_one(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    event = stripe_event("checkout_session_completed_once")
    del event["id"]
    with caplog.at_level(logging.INFO):
        assert post_event(client, event).status_code == 400
    [refused] = [r for r in caplog.records if r.getMessage() == "stripe webhook refused"]
    assert refused.__dict__["field"] == "id"
    assert "stripe_event" not in refused.__dict__


def test_an_event_whose_object_is_not_the_kind_its_type_names_is_refused(client: Client) -> None:
    event = stripe_event("invoice_paid_first")
    event["data"]["object"] = stripe_event("charge_refunded")["data"]["object"]
    assert post_event(client, event).status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_type_we_ignore_is_recorded_without_reading_its_object(client: Client) -> None:
    event = stripe_event("plan_created_unknown")
    event["data"]["object"].update(amount="garbage", currency=["x"])
    assert post_event(client, event).status_code == 200
    assert StripeEvent.objects.get().handled is False


# --- any shape, under a valid signature: 200, 400 or 503, never 500 -------------------------

NASTY = st.sampled_from(
    [0, -1, 2**31, 2**63, 10**30, 1.5, float("inf"), True, "", "\x00", "x" * 300, "9" * 30,
     "\ud800", "eur", "usd", "month", "week", "subscription", "payment", "paid", [], {},
     {"data": []}, {"data": [{}]}, {"id": "x"}]
)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | NASTY,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
RECORDED = sorted(path.stem for path in FIXTURES.glob("*.json"))
# The fields some code reads: mutations aim here (the recorded objects have ~100 others).
READ = {
    "id", "type", "created", "livemode", "data", "object", "amount_total", "currency",
    "customer", "customer_details", "email", "name", "customer_email", "customer_name", "mode",
    "payment_status", "payment_intent", "invoice", "subscription", "metadata", "frequency",
    "source_page", "amount_paid", "amount_due", "billing_reason", "status_transitions",
    "paid_at", "parent", "subscription_details", "lines", "pricing", "price_details", "price",
    "payments", "payment", "status", "items", "recurring", "interval", "interval_count",
    "unit_amount", "start_date", "amount_refunded", "refunded", "charge", "url",
}  # fmt: skip


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    children: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        children = [(key, value) for key, value in node.items() if key in READ]
    elif isinstance(node, list):
        children = list(enumerate(node))
    found = [prefix] if prefix else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


# Every (recorded event, field it reads) pair: a mutation picks one uniformly.
TARGETS = [(name, path) for name in RECORDED for path in _paths(stripe_event(name))]


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A recorded event with a fresh id and one to three fields it reads replaced or removed."""
    name, path = draw(st.sampled_from(TARGETS))
    event = stripe_event(name, event_id=f"evt_{uuid.uuid4().hex}")
    for extra in range(draw(st.integers(0, 2)) + 1):
        if extra:  # further mutations anywhere in the same event
            path = draw(st.sampled_from(_paths(event)))
        node: Any = event
        for key in path[:-1]:  # paths are read from the event as it is now: they exist
            node = node[key]
        if isinstance(node, dict) and draw(st.booleans()):
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(draw(NASTY | JSON))
    return event


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=st.one_of(mutated_events(), JSON))
def test_any_json_under_a_valid_signature_is_answered_200_400_or_503_never_500(
    client: Client, recorded_stripe: StripeStandin, event: Any
) -> None:
    response = post_event(client, event)
    assert response.status_code in {200, 400, 503}, response.content


# One recorded event per shape a handler reads (the other recorded events repeat these).
SHAPES = (
    "checkout_session_completed_once", "checkout_session_completed_monthly",
    "invoice_paid_first", "invoice_payment_failed", "customer_subscription_created",
    "charge_refunded", "charge_dispute_created",
)  # fmt: skip
WRONG: tuple[Any, ...] = ("(removed)", 10**30, -1, 1.5, "\x00", "x" * 300, [], "week")


def test_every_field_a_handler_reads_replaced_by_each_wrong_value_is_never_a_500(
    client: Client, recorded_stripe: StripeStandin
) -> None:
    """The exhaustive twin of the property above: each field, each kind of wrong value."""
    answers = set()
    for name in SHAPES:
        for path in _paths(stripe_event(name)):
            for value in WRONG:
                event = stripe_event(name, event_id=f"evt_{uuid.uuid4().hex}")
                node: Any = event
                for key in path[:-1]:
                    node = node[key]
                if value == "(removed)":
                    if not isinstance(node, dict):
                        continue
                    del node[path[-1]]
                else:
                    node[path[-1]] = copy.deepcopy(value)
                status = post_event(client, event).status_code
                assert status in {200, 400, 503}, (name, path, value, status)
                answers.add(status)
    assert {200, 400} <= answers  # both kinds were reached: parsed and applied, and refused


def test_only_the_boundary_module_imports_the_stripe_sdk() -> None:
    importers = []
    for app in ("donations", "newsletter", "newsroom"):
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                if any(name == "stripe" or name.startswith("stripe.") for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == ["donations/stripe_client/calls.py"]


def test_every_recorded_event_parses_and_is_applied(
    client: Client, recorded_stripe: StripeStandin
) -> None:
    for name in RECORDED:
        event = json.loads((FIXTURES / f"{name}.json").read_text())
        assert post_event(client, event).status_code == 200, name
    assert StripeEvent.objects.count() == len(RECORDED)
    assert RecurringDonation.objects.get().frequency == "monthly"


def test_a_fetch_from_a_stripe_that_never_answers_gives_up_within_the_timeout(
    settings: Any,
) -> None:
    """`STRIPE_TIMEOUT` bounds every call (and its one retry): a webhook that must fetch a price
    answers 503 instead of holding its transaction for the SDK's 80 s default."""
    import socket
    import time

    from donations import stripe_client

    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.STRIPE_TIMEOUT = 0.5
        started = time.monotonic()
        with pytest.raises(stripe_client.StripeUnavailable):
            stripe_client.price_retrieve("price_test_monthly0001")
        assert time.monotonic() - started < 5  # two attempts of 0.5 s, and the SDK's backoff
    finally:
        silent.close()
