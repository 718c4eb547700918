"""Staff's side of a donor's data: export, erase (the same as the donor's own delete, after a
confirmation), a yearly statement and a receipt emailed again as PDFs, changes listed; and
retention enforced by its beat task, stated on the privacy page from the same settings."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pypdf
import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from donations.models import Donation, Donor, RecurringChange, RecurringDonation, Reminder
from donations.services.retention import retention_enforce
from donations.standin import StripeStandin
from newsroom.erased import address_is_erased
from tests.donations.factories import DonationFactory, DonorFactory, RecurringDonationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff(client: Client) -> Client:
    user = User.objects.create_superuser("editor", "editor@example.org", "pw-editor-123")
    client.force_login(user)
    return client


def _donor(email: str = "gone@example.org", **fields: Any) -> Donor:
    donor = DonorFactory(email=email, **fields)
    assert isinstance(donor, Donor)
    return donor


def test_staff_erase_asks_first_then_cancels_the_active_gift_in_stripe_and_forgets_the_donor(
    staff: Client, stripe_standin: StripeStandin
) -> None:
    donor = _donor(name="Gone Reader", stripe_customer_id="cus_missing_in_stripe")
    gift = RecurringDonationFactory(donor=donor, stripe_subscription_id="sub_missing_in_stripe")
    assert isinstance(gift, RecurringDonation)
    DonationFactory(donor=donor, source_page="/2026/11/story/")
    Reminder.objects.create(email="gone@example.org", due_at=NOW)
    url = f"/admin/donations/donor/{donor.pk}/erase/"

    page = staff.get(url).content.decode()
    assert "cancelled in Stripe first" in page
    assert Donor.objects.get(pk=donor.pk).email == "gone@example.org"  # nothing yet

    response = staff.post(url, follow=True)
    assert f"Donor #{donor.pk} was erased." in response.content.decode()
    donor.refresh_from_db()
    assert (donor.email, donor.name) == (None, "")
    assert donor.erased_at is not None
    assert RecurringDonation.objects.get(pk=gift.pk).status == "cancelled"
    assert Donation.objects.get().source_page == ""
    assert not Reminder.objects.exists()
    assert address_is_erased("Gone@Example.org")
    asked = {(r["method"], r["path"]) for r in stripe_standin.requests()}
    assert ("DELETE", "/v1/subscriptions/sub_missing_in_stripe") in asked
    assert ("DELETE", "/v1/customers/cus_missing_in_stripe") in asked


def test_staff_cannot_type_an_erased_address_back(
    staff: Client, stripe_standin: StripeStandin
) -> None:
    gone = _donor()
    staff.post(f"/admin/donations/donor/{gone.pk}/erase/")
    assert address_is_erased("gone@example.org")
    other = _donor("other@example.org")
    response = staff.post(
        f"/admin/donations/donor/{other.pk}/change/",
        {
            "email": "GONE@example.org", "name": "",
            "recurring-TOTAL_FORMS": "0", "recurring-INITIAL_FORMS": "0",
            "donations-TOTAL_FORMS": "0", "donations-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "erased at its owner" in response.content.decode()
    assert Donor.objects.get(pk=other.pk).email == "other@example.org"
    reminder = staff.post(
        "/admin/donations/reminder/add/", {"email": "gone@example.org", "due_at_0": "2026-12-01",
                                           "due_at_1": "10:00:00"},
    )  # fmt: skip
    assert "erased at its owner" in reminder.content.decode()
    assert not Reminder.objects.exists()


def test_staff_export_is_the_donors_own_download(staff: Client) -> None:
    donor = _donor("export@example.org")
    DonationFactory(donor=donor)
    response = staff.get(f"/admin/donations/donor/{donor.pk}/data/")
    data = json.loads(response.content)
    assert data["address"] == "export@example.org"
    assert data["donations"]["donor"]["id"] == donor.pk
    assert len(data["donations"]["payments"]) == 1
    assert "no-store" in response["Cache-Control"]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_staff_send_a_yearly_statement_and_resend_a_receipt_as_pdfs(
    staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    donor = _donor("tax@example.org", name="Ada Reader")
    paid = DonationFactory(donor=donor, amount=Decimal("40"), paid_at=NOW)
    DonationFactory(donor=donor, amount=Decimal("10"), paid_at=NOW - timedelta(days=3))
    assert isinstance(paid, Donation)
    page = staff.get(f"/admin/donations/donor/{donor.pk}/statement/").content.decode()
    assert "2026 · USD" in page
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/admin/donations/donor/{donor.pk}/statement/", {"period": "2026-usd"})
        staff.post(
            "/admin/donations/donation/",
            {"action": "receipt_resend", "_selected_action": [paid.pk]},
        )
    statement, receipt = mail.outbox
    assert statement.to == receipt.to == ["tax@example.org"]
    [(name, content, kind)] = statement.attachments
    assert (name, kind) == ("statement-2026-usd.pdf", "application/pdf")
    text = _pdf_text(content)
    assert "50.00 USD" in text
    assert "Ada Reader" in text
    [(name, content, _)] = receipt.attachments
    assert name == f"receipt-2026-{paid.pk:06d}.pdf"
    assert "40.00 USD" in _pdf_text(content)


def test_changes_show_on_the_recurring_gifts_admin_page(staff: Client) -> None:
    gift = RecurringDonationFactory()
    assert isinstance(gift, RecurringDonation)
    RecurringChange.objects.create(
        recurring=gift, kind="terms", old_amount=Decimal("5"), new_amount=Decimal("9"),
        old_frequency="monthly", new_frequency="monthly", currency="usd", request_key="k1",
    )  # fmt: skip
    page = staff.get(f"/admin/donations/recurringdonation/{gift.pk}/change/").content.decode()
    assert "Amount or frequency changed" in page
    assert "9.00" in page
    assert staff.get("/admin/donations/recurringchange/").status_code == 200


def test_retention_forgets_old_names_source_pages_and_reminders_and_nothing_newer(
    settings: Any,
) -> None:
    settings.DONATIONS_NAME_RETENTION_DAYS = 365
    settings.DONATIONS_SOURCE_PAGE_RETENTION_DAYS = 30
    settings.DONATIONS_REMINDER_RETENTION_DAYS = 7
    with time_machine.travel(NOW - timedelta(days=400), tick=False):
        old = DonationFactory(donor=_donor("old@example.org", name="Old"), source_page="/a/")
        steady = _donor("steady@example.org", name="Steady")
        RecurringDonationFactory(donor=steady)
        DonationFactory(donor=steady)
        Reminder.objects.create(email="late@example.org", due_at=NOW - timedelta(days=8))
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        new = DonationFactory(donor=_donor("new@example.org", name="New"), source_page="/b/")
        Reminder.objects.create(email="soon@example.org", due_at=NOW - timedelta(days=2))
    assert isinstance(old, Donation)
    assert isinstance(new, Donation)

    with time_machine.travel(NOW, tick=False):
        counts = retention_enforce()
        again = retention_enforce()

    assert counts == {"names": 1, "source_pages": 1, "reminders": 1}
    assert again == {"names": 0, "source_pages": 0, "reminders": 0}
    names = dict(Donor.objects.values_list("email", "name"))
    assert names == {
        "old@example.org": "", "steady@example.org": "Steady", "new@example.org": "New",
    }  # fmt: skip
    assert dict(Donation.objects.values_list("pk", "source_page")) == {
        old.pk: "", new.pk: "/b/", **{d.pk: "" for d in Donation.objects.filter(donor=steady)},
    }  # fmt: skip
    assert list(Reminder.objects.values_list("email", flat=True)) == ["soon@example.org"]


def test_the_privacy_page_states_the_retention_settings(client: Client, settings: Any) -> None:
    settings.DONATIONS_NAME_RETENTION_DAYS = 400
    settings.DONATIONS_SOURCE_PAGE_RETENTION_DAYS = 45
    settings.DONATIONS_REMINDER_RETENTION_DAYS = 9
    page = client.get("/privacy/").content.decode()
    assert "<strong>400 days</strong> after your last gift" in page
    assert "<strong>45 days</strong> after the gift" in page
    assert "<strong>9 days</strong> after it was due" in page
    assert "download your data" in page


def test_retention_runs_daily_from_beat() -> None:
    from newsroom.celery_app import app

    schedule = app.conf.beat_schedule["donations-enforce-retention"]
    assert schedule["task"] == "donations.tasks.enforce_retention"
    assert "donations.tasks.enforce_retention" in app.tasks
