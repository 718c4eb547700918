from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from donations.standin import StripeStandin
from tests.donations.stripe_events import post_event, recorded_objects


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters live in the (shared) cache: start and end each test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def recorded_stripe(stripe_standin: StripeStandin) -> StripeStandin:
    """The stand-in holding the recorded events' subscription and price, so a handler that
    fetches what an event names only by id (an invoice's price) finds what Stripe would."""
    with stripe_standin.store.lock:
        for obj in recorded_objects():
            stripe_standin.store.add(obj)
    return stripe_standin


@pytest.fixture
def deliver(
    client: Client, django_capture_on_commit_callbacks: Any, recorded_stripe: StripeStandin
) -> Callable[[dict[str, Any]], int]:
    """Post a signed event and run what it queued on commit (tasks run eagerly in tests). The
    stand-in holds what the events name by id (an invoice's price), as Stripe would."""

    def post(event: dict[str, Any]) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return int(post_event(client, event).status_code)

    return post
