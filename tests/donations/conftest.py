from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.donations.stripe_events import recorded_objects
from tests.stripe_standin import StripeStandin


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
