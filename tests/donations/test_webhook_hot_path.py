"""The webhook's hot path stays short: no look-up before its inserts, no savepoint around them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from donations.models import Donation, Donor, StripeEvent
from tests.donations.stripe_events import post_event, stripe_event

pytestmark = pytest.mark.django_db

CONTROL = {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"}


def _statements(client: Client, event: dict[str, Any]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert post_event(client, event).status_code == 200
    return [q["sql"].split()[0] for q in queries.captured_queries]


def test_a_new_paid_payment_is_three_inserts_and_its_replay_one_statement(client: Client) -> None:
    event = stripe_event("checkout_session_completed_once")
    statements = _statements(client, event)
    assert [s for s in statements if s not in CONTROL] == ["INSERT", "INSERT", "INSERT"], statements
    assert statements.count("SAVEPOINT") <= 1  # the test's own transaction makes atomic() one
    replay = _statements(client, event)
    assert [s for s in replay if s not in CONTROL] == ["INSERT"], replay
    assert (StripeEvent.objects.count(), Donation.objects.count(), Donor.objects.count()) == (
        1,
        1,
        1,
    )
