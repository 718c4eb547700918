"""A "Remind me later" reader who gives before the reminder is due is not reminded. Through
the real surface: the remind-me form, our checkout, the Stripe stand-in's signed events to
our webhook, then the beat task; the mail that would go out is the test outbox."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from donations.models import Reminder
from donations.standin import StripeStandin
from donations.tasks import send_due_reminders
from tests.donations.flow import checkout, deliver_all

pytestmark = pytest.mark.django_db
SUBJECT = "A reminder from"


@pytest.fixture
def give(stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any) -> Any:
    """Pay a one-time gift through our checkout and the stand-in, as `email` types it at
    Stripe's checkout, and deliver its signed events to our webhook."""
    delivered = 0

    def pay(email: str, when: str) -> None:
        nonlocal delivered
        with time_machine.travel(when):
            session = checkout(Client(), frequency="once", amount="12")
            stripe_standin.pay(session, email=email)
            delivered = deliver_all(
                Client(), stripe_standin, django_capture_on_commit_callbacks, skip=delivered
            )

    return pay


def _ask(email: str, when: str) -> None:
    with time_machine.travel(when):
        assert Client().post("/support/remind-me/", {"email": email}).status_code == 200


def _run_due(capture: Any, when: str) -> list[str]:
    """Run the beat task; the addresses that were sent a reminder."""
    mail.outbox.clear()
    with time_machine.travel(when), capture(execute=True):
        send_due_reminders.delay()
    return sorted(m.to[0] for m in mail.outbox if m.subject.startswith(SUBJECT))


@pytest.mark.parametrize("typed_at_checkout", ["later@example.org", "  LATER@Example.ORG "])
def test_a_reader_who_gave_after_asking_is_not_reminded_and_one_who_did_not_is(
    give: Any, django_capture_on_commit_callbacks: Any, typed_at_checkout: str
) -> None:
    _ask("Later@example.org", "2026-03-01 09:00Z")
    _ask("other@example.org", "2026-03-01 09:00Z")
    give(typed_at_checkout, "2026-03-10 12:00Z")

    sent = _run_due(django_capture_on_commit_callbacks, "2026-04-01 09:00Z")

    assert sent == ["other@example.org"]
    skipped = Reminder.objects.get(skipped_at__isnull=False)
    assert (skipped.email, skipped.sent_at) == ("", None)  # its address is forgotten
    assert _run_due(django_capture_on_commit_callbacks, "2026-04-02 09:00Z") == []


def test_a_gift_made_before_asking_does_not_stop_the_reminder(
    give: Any, django_capture_on_commit_callbacks: Any
) -> None:
    give("later@example.org", "2026-02-20 12:00Z")
    _ask("later@example.org", "2026-03-01 09:00Z")

    sent = _run_due(django_capture_on_commit_callbacks, "2026-04-01 09:00Z")

    assert sent == ["later@example.org"]
    assert Reminder.objects.get().skipped_at is None


def test_asking_again_after_giving_is_a_new_wish_to_be_reminded(
    give: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _ask("later@example.org", "2026-03-01 09:00Z")
    give("later@example.org", "2026-03-05 12:00Z")
    _ask("later@example.org", "2026-03-06 09:00Z")

    assert _run_due(django_capture_on_commit_callbacks, "2026-04-06 09:00Z") == [
        "later@example.org"
    ]
