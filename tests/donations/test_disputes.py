"""Disputes through the real surface: a reader pays through our checkout and the Stripe
stand-in, the stand-in opens and closes a dispute, and its signed events reach our webhook in
any order and more than once. Staff read the outcome on the figures page."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from donations.models import Dispute, Donation, StripeEvent
from donations.standin import StripeStandin
from tests.donations.flow import checkout, post_payload
from tests.donations.stripe_events import post_event, stripe_event

pytestmark = pytest.mark.django_db
FIGURES = "/admin/donations/donation/figures/"


@dataclass
class Story:
    """Two one-time gifts (25 and 10 USD); the 25 is disputed. Events are kept, not sent."""

    standin: StripeStandin
    post: Callable[[bytes], int]
    staff: Client
    charge: str
    before: list[bytes]  # the payment events of the 10 USD gift
    payment: list[bytes]  # the payment events of the disputed 25 USD gift

    def dispute(self) -> tuple[str, bytes]:
        dispute = self.standin.dispute(self.charge)
        [created] = self.standin.event_payloads("charge.dispute.created")[-1:]
        return str(dispute["id"]), created

    def close(self, dispute_id: str, status: str) -> bytes:
        self.standin.close_dispute(dispute_id, status)
        return self.standin.event_payloads("charge.dispute.closed")[-1]

    def totals(self) -> dict[str, str]:
        """The figures page's per-currency row for USD: {"gross": "35.00", ...}."""
        page = self.staff.get(FIGURES).content.decode()
        row = re.search(r'<tr class="total-usd">(.*?)</tr>', page, re.S)
        assert row is not None, page
        return dict(re.findall(r'<td class="(\w+)">([^<]*)</td>', row.group(1)))


def _payloads_since(standin: StripeStandin, seen: int) -> list[bytes]:
    return standin.event_payloads()[seen:]


@pytest.fixture
def story(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> Story:
    def post(payload: bytes) -> int:
        return post_payload(client, payload, django_capture_on_commit_callbacks)

    stripe_standin.pay(checkout(Client(), frequency="once", amount="10"), email="a@example.org")
    before = _payloads_since(stripe_standin, 0)
    paid = stripe_standin.pay(
        checkout(Client(), frequency="once", amount="25"), email="b@example.org"
    )
    payment = _payloads_since(stripe_standin, len(before))
    charge = str(stripe_standin.get(str(paid["payment_intent"]))["latest_charge"])
    user = User.objects.create_user("editor", is_staff=True, is_superuser=True)
    staff = Client()
    staff.force_login(user)
    return Story(stripe_standin, post, staff, charge, before, payment)


def _deliver(story: Story, payloads: list[bytes]) -> None:
    for payload in payloads:
        assert story.post(payload) == 200, json.loads(payload)["type"]


def _disputed_payment() -> Donation:
    return Donation.objects.get(amount=Decimal("25"))


def test_an_open_dispute_is_counted_apart_from_revenue(story: Story, settings: Any) -> None:
    settings.STAFF_NOTIFICATION_EMAILS = ["editor@example.org"]
    _deliver(story, story.before + story.payment)
    assert story.totals() == {
        "payments": "2", "gross": "35.00", "refunded": "0.00", "disputed": "0.00",
        "lost": "0.00", "net": "35.00",
    }  # fmt: skip
    mail.outbox.clear()

    _, created = story.dispute()
    _deliver(story, [created])

    totals = story.totals()
    assert (totals["gross"], totals["disputed"], totals["net"]) == ("35.00", "25.00", "10.00")
    assert _disputed_payment().status == Donation.Status.DISPUTED
    assert [m.to for m in mail.outbox] == [["editor@example.org"]]  # staff told once


def test_a_dispute_won_is_revenue_again(story: Story) -> None:
    _deliver(story, story.before + story.payment)
    dispute_id, created = story.dispute()
    _deliver(story, [created, story.close(dispute_id, "won")])

    totals = story.totals()
    assert (totals["gross"], totals["disputed"], totals["lost"]) == ("35.00", "0.00", "0.00")
    assert totals["net"] == "35.00"
    assert _disputed_payment().status == Donation.Status.PAID
    assert Dispute.objects.get().outcome == Dispute.Outcome.WON


def test_a_dispute_lost_is_subtracted_from_net(story: Story) -> None:
    _deliver(story, story.before + story.payment)
    dispute_id, created = story.dispute()
    _deliver(story, [created, story.close(dispute_id, "lost")])

    totals = story.totals()
    assert (totals["gross"], totals["disputed"], totals["lost"]) == ("35.00", "0.00", "25.00")
    assert totals["net"] == "10.00"
    assert _disputed_payment().status == Donation.Status.DISPUTED
    dispute = Dispute.objects.get()
    assert (dispute.outcome, dispute.stripe_status) == (Dispute.Outcome.LOST, "lost")
    assert dispute.closed_at is not None
    today = timezone.localdate().isoformat()
    export = story.staff.get("/admin/donations/donation/export/", {"start": today, "end": today})
    rows = csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode()))  # type: ignore[attr-defined]
    by_amount = {row["amount"]: row for row in rows}
    assert by_amount["25.00"]["amount_lost_in_disputes"] == "25.00"
    assert by_amount["25.00"]["amount_disputed"] == "0.00"
    assert by_amount["10.00"]["amount_lost_in_disputes"] == "0.00"


def test_each_dispute_event_delivered_three_times_counts_once(story: Story) -> None:
    _deliver(story, story.before + story.payment)
    dispute_id, created = story.dispute()
    closed = story.close(dispute_id, "lost")  # the same second as `created`: closed outranks

    _deliver(story, [created, created, closed, created, closed, closed])

    assert StripeEvent.objects.filter(type__startswith="charge.dispute.").count() == 2
    assert Dispute.objects.count() == 1
    totals = story.totals()
    assert (totals["payments"], totals["lost"], totals["net"]) == ("2", "25.00", "10.00")


@pytest.mark.parametrize("status", ["won", "lost"])
@pytest.mark.parametrize("order", list(itertools.permutations(["payment", "created", "closed"])))
def test_any_order_of_payment_dispute_and_close_ends_the_same(
    story: Story, status: str, order: tuple[str, ...]
) -> None:
    """Stripe retries a 503 (a dispute for a payment not recorded yet) until it is accepted."""
    _deliver(story, story.before)
    dispute_id, created = story.dispute()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        closed = story.close(dispute_id, status)  # decided later than it was opened
    units = {"payment": story.payment, "created": [created], "closed": [closed]}

    waiting = [payload for unit in order for payload in units[unit]]
    answers = []
    for _ in range(3):  # Stripe's retries
        answers.append([story.post(payload) for payload in waiting])
        waiting = [
            payload for payload, code in zip(waiting, answers[-1], strict=True) if code != 200
        ]
    assert waiting == []
    assert (503 in answers[0]) == (order[0] != "payment")  # early disputes were sent back

    payment, dispute = _disputed_payment(), Dispute.objects.get()
    lost = status == "lost"
    assert dispute.outcome == status
    assert payment.status == (Donation.Status.DISPUTED if lost else Donation.Status.PAID)
    totals = story.totals()
    assert (totals["disputed"], totals["lost"]) == ("0.00", "25.00" if lost else "0.00")
    assert totals["net"] == ("10.00" if lost else "35.00")


def test_an_inquiry_closed_without_a_chargeback_is_revenue_again(deliver: Any) -> None:
    deliver(stripe_event("checkout_session_completed_once"))
    inquiry = stripe_event("charge_dispute_created", status="warning_needs_response")
    assert deliver(inquiry) == 200
    assert Donation.objects.get().status == Donation.Status.DISPUTED

    closed = stripe_event("charge_dispute_created", status="warning_closed", created=1764100060)
    closed.update(id="evt_test_dp_closed", type="charge.dispute.closed")
    assert deliver(closed) == 200

    assert Donation.objects.get().status == Donation.Status.PAID
    assert Dispute.objects.get().outcome == Dispute.Outcome.WON


def test_staff_cannot_edit_the_dispute_notice_time_or_a_dispute(
    story: Story, settings: Any
) -> None:
    settings.STAFF_NOTIFICATION_EMAILS = ["editor@example.org"]
    _deliver(story, story.before + story.payment)
    _, created = story.dispute()
    _deliver(story, [created])
    payment = _disputed_payment()
    told = payment.dispute_notice_sent_at
    assert told is not None
    path = f"/admin/donations/donation/{payment.pk}/change/"

    page = story.staff.get(path).content.decode()
    assert 'name="dispute_notice_sent_at' not in page  # shown as text, not a field
    assert "Dispute notice sent at" in page
    dispute = Dispute.objects.get()
    form = {
        "dispute_notice_sent_at_0": "2020-01-01", "dispute_notice_sent_at_1": "00:00:00",
        "disputes-TOTAL_FORMS": "1", "disputes-INITIAL_FORMS": "1",
        "disputes-MIN_NUM_FORMS": "0", "disputes-MAX_NUM_FORMS": "1000",
        "disputes-0-id": str(dispute.pk), "disputes-0-donation": str(payment.pk), "_save": "Save",
    }  # fmt: skip
    assert story.staff.post(path, form).status_code == 302  # saved: with nothing to change

    payment.refresh_from_db()
    assert payment.dispute_notice_sent_at == told
    dispute_path = f"/admin/donations/dispute/{dispute.pk}/change/"
    assert 'name="outcome"' not in story.staff.get(dispute_path).content.decode()
    assert story.staff.post(dispute_path, {"outcome": "won"}).status_code == 403
    assert Dispute.objects.get().outcome == Dispute.Outcome.OPEN


def test_a_payment_marked_disputed_before_disputes_were_recorded_counts_as_disputed(
    client: Client,
) -> None:
    """Rows from before disputes had their own table: disputed, but no dispute row."""
    post_event(client, stripe_event("checkout_session_completed_once"))
    Donation.objects.update(status=Donation.Status.DISPUTED, paid_at=timezone.now())  # as before
    user = User.objects.create_user("editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    page = client.get(FIGURES).content.decode()
    row = re.search(r'<tr class="total-usd">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = dict(re.findall(r'<td class="(\w+)">([^<]*)</td>', row.group(1)))
    assert (cells["gross"], cells["disputed"], cells["net"]) == ("25.00", "25.00", "0.00")


@pytest.mark.parametrize(("refunded", "after"), [(2500, "refunded"), (1000, "paid")])
def test_a_dispute_won_returns_a_refunded_payment_to_refunded_and_a_partial_one_to_paid(
    deliver: Any, refunded: int, after: str
) -> None:
    deliver(stripe_event("checkout_session_completed_once"))
    full = refunded == 2500
    deliver(stripe_event("charge_refunded", amount_refunded=refunded, refunded=full))
    deliver(stripe_event("charge_dispute_created"))
    assert Donation.objects.get().status == Donation.Status.DISPUTED

    won = stripe_event("charge_dispute_created", status="won", created=1764100060)
    won.update(id="evt_test_dp_won", type="charge.dispute.closed")
    assert deliver(won) == 200

    assert Donation.objects.get().status == after
