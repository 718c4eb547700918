from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from donations import stripe_client
from donations.models import Donation, RecurringDonation
from donations.standin import StripeStandin
from tests.donations.factories import DonationFactory, DonorFactory, RecurringDonationFactory
from tests.donations.flow import checkout, deliver_all
from tests.hanging_server import HangingServer

pytestmark = pytest.mark.django_db
EXPORT = "/admin/donations/donation/export/"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


@pytest.fixture
def staff(client: Client) -> Client:
    user = User.objects.create_user("editor", password="pw-editor-123", is_staff=True)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def _paid(amount: str, currency: str, frequency: str, when: datetime, **kw: Any) -> Donation:
    donation = DonationFactory(
        amount=Decimal(amount), currency=currency, frequency=frequency, paid_at=when, **kw
    )
    assert isinstance(donation, Donation)
    return donation


def test_figures_page_shows_revenue_donors_mrr_and_weekly_chart(staff: Client) -> None:
    _paid("25", "usd", "once", NOW - timedelta(days=3))
    _paid("5", "usd", "monthly", NOW - timedelta(days=2))
    _paid("50", "usd", "once", NOW - timedelta(days=40))  # last month: not counted
    _paid("10", "eur", "once", NOW - timedelta(days=1), amount_refunded=Decimal("10"))
    RecurringDonationFactory(amount=Decimal("5"), started_at=NOW - timedelta(days=8))
    RecurringDonationFactory(amount=Decimal("10"), started_at=NOW - timedelta(days=1))
    RecurringDonationFactory(
        frequency="annual", amount=Decimal("120"), started_at=NOW - timedelta(days=1)
    )
    RecurringDonationFactory(
        status=RecurringDonation.Status.CANCELLED,
        started_at=NOW - timedelta(days=60),
        cancelled_at=NOW - timedelta(days=1),
    )

    with time_machine.travel(NOW, tick=False):
        page = staff.get("/admin/donations/donation/figures/").content.decode()

    # The columns: frequency, currency, payments, gross, refunded, disputed, lost, net.
    cells = "<td>{}</td>" * 8
    assert cells.format("Once", "USD", 1, "25.00", "0.00", "0.00", "0.00", "25.00") in page
    assert cells.format("Monthly", "USD", 1, "5.00", "0.00", "0.00", "0.00", "5.00") in page
    assert cells.format("Once", "EUR", 1, "10.00", "10.00", "0.00", "0.00", "0.00") in page
    assert '<tr class="total-usd"><th>USD</th><td class="payments">2</td>' in page
    assert '<td class="active-monthly">2</td>' in page
    assert '<td class="active-annual">1</td>' in page
    assert '<td class="mrr">25.00</td>' in page  # 5 + 10 + 120 / 12
    assert "<svg" in page
    assert page.count('class="week"') == 12
    assert "<td>16 Nov 2026</td><td>2</td><td>1</td>" in page


def test_the_weekly_chart_has_labelled_axes_with_units(staff: Client) -> None:
    for days in (1, 2, 3):
        RecurringDonationFactory(started_at=NOW - timedelta(days=days))
    with time_machine.travel(NOW, tick=False):
        page = staff.get("/admin/donations/donation/figures/").content.decode()
    start = page.index('<svg class="figures-chart"')
    svg = page[start : page.index("</svg>", start)]
    assert ">Recurring gifts per week</text>" in svg  # the count axis and its unit
    assert ">Week starting (Monday)</text>" in svg  # the time axis
    ticks = [t.split(">")[1] for t in svg.split('<text class="chart-tick"')[1:]]
    assert [t.removesuffix("</text") for t in ticks] == ["0", "1", "2", "3", "1", "2", "3"]
    weeks = svg.count('<text class="chart-week"')
    assert weeks == 12
    assert ">16 Nov</text>" in svg
    assert "New (above the line)" in svg
    assert "Cancelled (below)" in svg


def test_figures_page_is_for_staff_only(client: Client) -> None:
    response = client.get("/admin/donations/donation/figures/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_csv_export_lists_payments_in_the_range_without_personal_data(staff: Client) -> None:
    inside = _paid("25", "usd", "once", NOW - timedelta(days=1))
    _paid("99", "usd", "once", NOW - timedelta(days=30))

    response = staff.get(
        "/admin/donations/donation/export/", {"start": "2026-11-19", "end": "2026-11-20"}
    )
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]

    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["stripe_payment_intent_id"] for row in rows] == [inside.stripe_payment_intent_id]
    assert rows[0]["amount"] == "25.00"
    assert inside.donor is not None
    assert inside.donor.email
    assert inside.donor.email not in body
    assert response["Content-Disposition"].startswith("attachment;")


def test_csv_export_refuses_an_inverted_range(staff: Client) -> None:
    response = staff.get(
        "/admin/donations/donation/export/", {"start": "2026-11-20", "end": "2026-11-01"}
    )
    assert "start date must be on or before" in response.content.decode()


def test_refund_action_refunds_through_stripe_and_marks_the_payment(
    staff: Client, stripe_standin: StripeStandin
) -> None:
    session_id = checkout(Client(), frequency="once", amount="25")
    stripe_standin.pay(session_id, email="reader@example.org")
    deliver_all(Client(), stripe_standin)
    donation = Donation.objects.get()
    intent = donation.stripe_payment_intent_id

    response = staff.post(
        "/admin/donations/donation/",
        {"action": "refund", "_selected_action": [donation.pk]},
        follow=True,
    )

    assert "Refunded 1 payment" in response.content.decode()
    donation.refresh_from_db()
    assert donation.status == Donation.Status.REFUNDED
    [refund] = stripe_standin.requests("/v1/refunds")
    assert refund["params"]["payment_intent"] == intent
    assert refund["idempotency_key"] == f"refund-donation-{donation.pk}"


def test_cancel_action_cancels_the_subscription_in_stripe(
    staff: Client, stripe_standin: StripeStandin
) -> None:
    session_id = checkout(Client())
    stripe_standin.pay(session_id, email="reader@example.org")
    deliver_all(Client(), stripe_standin)
    recurring = RecurringDonation.objects.get()

    response = staff.post(
        "/admin/donations/recurringdonation/",
        {"action": "cancel", "_selected_action": [recurring.pk]},
        follow=True,
    )
    assert "Cancelled 1 recurring gift" in response.content.decode()
    recurring.refresh_from_db()
    assert recurring.status == RecurringDonation.Status.CANCELLED
    assert stripe_standin.get(recurring.stripe_subscription_id)["status"] == "canceled"


def test_cancel_action_accepts_a_gift_stripe_already_cancelled_before_its_event_arrived(
    staff: Client, stripe_standin: StripeStandin
) -> None:
    session_id = checkout(Client())
    stripe_standin.pay(session_id, email="reader@example.org")
    deliver_all(Client(), stripe_standin)
    recurring = RecurringDonation.objects.get()
    stripe_client.subscription_cancel(recurring.stripe_subscription_id)  # e.g. in the dashboard
    assert recurring.status == RecurringDonation.Status.ACTIVE  # its event not delivered yet

    response = staff.post(
        "/admin/donations/recurringdonation/",
        {"action": "cancel", "_selected_action": [recurring.pk]},
        follow=True,
    )
    assert "Cancelled 1 recurring gift" in response.content.decode()
    recurring.refresh_from_db()
    assert recurring.status == RecurringDonation.Status.CANCELLED
    with pytest.raises(stripe_client.StripeRefused):
        stripe_client.subscription_cancel("sub_does_not_exist")


def _paid_through_stripe(stripe_standin: StripeStandin, count: int) -> list[Donation]:
    for n in range(count):
        session_id = checkout(Client(), frequency="once", amount=str(10 + n))
        stripe_standin.pay(session_id, email=f"reader{n}@example.org")
    deliver_all(Client(), stripe_standin)
    return list(Donation.objects.order_by("pk"))


def _refund(staff: Client, donations: list[Donation]) -> str:
    response = staff.post(
        "/admin/donations/donation/",
        {"action": "refund", "_selected_action": [d.pk for d in donations]},
        follow=True,
    )
    return str(response.content.decode())


def test_a_refund_stripe_refuses_is_said_for_its_row_and_the_others_go_on(
    staff: Client, stripe_standin: StripeStandin
) -> None:
    first, *others = _paid_through_stripe(stripe_standin, 3)
    stripe_standin.fail_next(402, "charge_already_refunded")
    page = _refund(staff, [first, *others])
    assert f"#{first.pk}: Stripe did not accept the refund." in page
    assert "Refunded 2 payment(s)." in page
    statuses = list(Donation.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [Donation.Status.PAID, Donation.Status.REFUNDED, Donation.Status.REFUNDED]


def test_with_stripe_hanging_a_refund_of_many_stops_at_the_first_and_says_what_was_not_tried(
    staff: Client, stripe_standin: StripeStandin, settings: Any
) -> None:
    donations = _paid_through_stripe(stripe_standin, 3)
    with HangingServer() as hanging:
        settings.STRIPE_API_BASE = hanging.url
        settings.STRIPE_CONNECT_TIMEOUT = settings.STRIPE_TIMEOUT = 0.5
        started = time.monotonic()
        page = _refund(staff, donations)
        waited = time.monotonic() - started
        asked = hanging.accepted

    first, second, third = (d.pk for d in donations)
    assert waited < 2 * 0.5 + 0.25 + 1.5  # one call and its retry, not one per row
    assert asked <= 2
    assert f"Stripe is not answering, so this stopped at #{first}" in page
    assert f"Not tried: #{second}, #{third}. Try again in a few minutes." in page
    assert "payment(s)." not in page  # no success message
    assert not Donation.objects.exclude(status=Donation.Status.PAID).exists()


def test_admin_lists_load_with_filters_and_search(staff: Client) -> None:
    DonationFactory(donor=DonorFactory(email="findme@example.org"))
    for path in ("donation", "recurringdonation", "donor", "reminder", "stripeevent",
                 "failedpayment"):  # fmt: skip
        assert staff.get(f"/admin/donations/{path}/").status_code == 200
    found = staff.get("/admin/donations/donation/", {"q": "findme@example.org"})
    assert "findme@example.org" in found.content.decode()
    filtered = staff.get("/admin/donations/donation/", {"status": "paid", "currency": "usd"})
    assert filtered.status_code == 200


def test_donor_page_lists_their_gifts(staff: Client) -> None:
    donation = DonationFactory()
    assert isinstance(donation, Donation)
    page = staff.get(f"/admin/donations/donor/{donation.donor_id}/change/").content.decode()
    assert "25.00" in page


@pytest.mark.parametrize(
    ("key", "dashboard"),
    [
        ("sk_test_x", "https://dashboard.stripe.com/test/payments/"),
        ("sk_live_x", "https://dashboard.stripe.com/payments/"),
        ("rk_live_x", "https://dashboard.stripe.com/payments/"),
    ],
)
def test_payment_page_shows_stripe_ids_read_only_linked_to_the_dashboard_of_the_keys_mode(
    staff: Client, settings: Any, key: str, dashboard: str
) -> None:
    settings.STRIPE_SECRET_KEY = key
    donation = DonationFactory(stripe_payment_intent_id="pi_test_link0001")
    assert isinstance(donation, Donation)
    page = staff.get(f"/admin/donations/donation/{donation.pk}/change/").content.decode()
    assert f'href="{dashboard}pi_test_link0001"' in page
    assert 'name="stripe_payment_intent_id"' not in page  # shown, not editable


@pytest.mark.parametrize(
    "path", ["donation", "recurringdonation", "donor", "failedpayment", "stripeevent", "reminder"]
)
def test_admin_lists_take_the_same_queries_for_3_rows_as_for_30(staff: Client, path: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from donations.models import FailedPayment

    def add(n: int) -> None:
        for _ in range(n):
            recurring = RecurringDonationFactory()
            assert isinstance(recurring, RecurringDonation)
            DonationFactory(donor=recurring.donor, recurring=recurring)
            FailedPayment.objects.create(
                recurring=recurring, stripe_invoice_id=f"in_{recurring.stripe_subscription_id}"
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(f"/admin/donations/{path}/").status_code == 200
        return len(captured)

    add(3)
    few = queries()
    add(27)
    assert queries() == few
