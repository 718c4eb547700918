"""One Stripe API version, the one the installed SDK ships, everywhere: an SDK upgrade that
moves the version fails here until the pin, the stand-in and the recorded events follow. And
the README tells operators to enable exactly the event types the webhook handles."""

from __future__ import annotations

import json
import re

import stripe

from donations import stripe_client
from donations.standin import store
from tests.donations.stripe_events import FIXTURES


def test_the_pinned_api_version_is_the_one_the_installed_sdk_ships() -> None:
    assert stripe_client.API_VERSION == stripe._ApiVersion.CURRENT


def test_the_standin_and_every_recorded_event_use_the_pinned_version() -> None:
    assert store.API_VERSION == stripe_client.API_VERSION
    recorded = {
        path.name: json.loads(path.read_text())["api_version"] for path in FIXTURES.glob("*.json")
    }
    assert recorded
    assert set(recorded.values()) == {stripe_client.API_VERSION}, recorded


def test_the_readme_enables_exactly_the_event_types_the_webhook_handles() -> None:
    from pathlib import Path

    from donations.webhooks import EVENT_TYPES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("Enable these events:", 1)[1].split("Put its signing secret", 1)[0]
    listed = set(re.findall(r"`([a-z_.]+)`", section))
    assert listed == set(EVENT_TYPES)
