from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from donations.models import Reminder
from donations.tasks import send_due_reminders

pytestmark = pytest.mark.django_db


def _run_due(capture: Any) -> None:
    with capture(execute=True):
        send_due_reminders.delay()


def test_remind_me_stores_one_reminder_due_in_30_days_and_hides_the_banner(
    client: Client,
) -> None:
    response = client.post("/support/remind-me/", {"email": "Later@Example.org"})

    assert response.status_code == 200
    reminder = Reminder.objects.get()
    assert reminder.email == "later@example.org"
    assert abs(reminder.due_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert response.cookies["support_reminder"]["max-age"] == 14 * 86400
    article = client.get("/").content.decode()
    assert "we will remind you" in article.lower()
    assert 'action="/support/checkout/"' not in article
    assert 'action="/support/checkout/"' in client.get("/support/").content.decode()


def test_asking_twice_keeps_one_pending_reminder(client: Client) -> None:
    client.post("/support/remind-me/", {"email": "later@example.org"})
    client.post("/support/remind-me/", {"email": "LATER@example.org"})
    assert Reminder.objects.count() == 1


@pytest.mark.parametrize(
    "data", [{"email": "not-an-email"}, {}, {"email": "a@b.org", "website": "x"}]
)
def test_bad_remind_me_input_stores_nothing(client: Client, data: dict[str, str]) -> None:
    assert client.post("/support/remind-me/", data).status_code == 400
    assert not Reminder.objects.exists()


def test_reminder_is_sent_once_when_due_and_not_before(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        client.post("/support/remind-me/", {"email": "later@example.org"})
    with time_machine.travel("2026-03-30 09:00Z", tick=False):
        _run_due(django_capture_on_commit_callbacks)
        assert mail.outbox == []
    with time_machine.travel("2026-03-31 09:01Z", tick=False):
        _run_due(django_capture_on_commit_callbacks)
        _run_due(django_capture_on_commit_callbacks)
    with time_machine.travel("2026-04-30 09:01Z", tick=False):
        _run_due(django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["later@example.org"]
    assert "http://testserver/support/" in mail.outbox[0].body
    assert "/support/remind-me/stop/" in mail.outbox[0].body
    sent = Reminder.objects.get()
    assert (sent.email, sent.sent_at is not None) == ("", True)  # the address is forgotten


def test_opting_out_from_the_link_stops_the_reminder(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from donations.links import reminder_stop_url

    client.post("/support/remind-me/", {"email": "later@example.org"})
    path = reminder_stop_url(reminder_id=Reminder.objects.get().pk).removeprefix(
        "http://testserver"
    )
    assert client.get(path).status_code == 200
    assert Reminder.objects.get().opted_out_at is None  # a GET (link scanner) changes nothing
    assert client.post(path).status_code == 200
    assert Reminder.objects.get().email == ""  # opted out: the address is forgotten
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        _run_due(django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_opting_out_after_the_reminder_was_sent_touches_no_other_reminder(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from donations.links import reminder_stop_url

    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        client.post("/support/remind-me/", {"email": "first@example.org"})
        client.post("/support/remind-me/", {"email": "second@example.org"})
    first = Reminder.objects.get(email="first@example.org")
    path = reminder_stop_url(reminder_id=first.pk).removeprefix("http://testserver")
    with time_machine.travel("2026-04-01 09:00Z", tick=False):
        _run_due(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    client.post("/support/remind-me/", {"email": "third@example.org"})

    assert client.post(path).status_code == 200

    assert list(Reminder.objects.order_by("pk").values_list("email", "opted_out_at")) == [
        ("", None),
        ("", None),
        ("third@example.org", None),
    ]


def test_remind_me_is_rate_limited(client: Client, settings: Any) -> None:
    settings.DONATIONS_EMAIL_RATE = "2/m"
    codes = [
        client.post("/support/remind-me/", {"email": f"{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]
    assert Reminder.objects.count() == 2


def test_sweep_requeues_a_receipt_whose_task_was_lost_and_never_sends_twice(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from donations.models import Donation
    from donations.tasks import sweep_unsent_emails
    from tests.donations.factories import DonationFactory

    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        lost = DonationFactory(paid_at=timezone.now())  # paid, but its task never ran
        assert isinstance(lost, Donation)
    with (
        time_machine.travel("2026-03-01 09:05Z", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_unsent_emails.delay()
    assert mail.outbox == []  # still within the grace period of the normal task
    for minute in (11, 16):
        with (
            time_machine.travel(f"2026-03-01 09:{minute}Z", tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            sweep_unsent_emails.delay()
    assert len(mail.outbox) == 1
    lost.refresh_from_db()
    assert lost.receipt_sent_at is not None


def test_sweep_requeues_a_dispute_notice_whose_task_was_lost_and_tells_staff_once(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from donations.models import Donation
    from donations.tasks import sweep_unsent_emails
    from tests.donations.factories import DonationFactory

    settings.STAFF_NOTIFICATION_EMAILS = ["editor@example.org"]
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        lost = DonationFactory(status=Donation.Status.DISPUTED, receipt_sent_at=timezone.now())
        assert isinstance(lost, Donation)
    for minute in (5, 11, 16):
        with (
            time_machine.travel(f"2026-03-01 09:{minute:02d}Z", tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            sweep_unsent_emails.delay()
        if minute == 5:
            assert mail.outbox == []  # the normal task still has its chance
    assert [m.to for m in mail.outbox] == [["editor@example.org"]]
    assert "disputed" in mail.outbox[0].subject
    lost.refresh_from_db()
    assert lost.dispute_notice_sent_at is not None
