from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.models import RecurringDonation
from donations.selectors import active_recurring_donor_emails
from tests.donations.factories import DonorFactory, RecurringDonationFactory

pytestmark = pytest.mark.django_db


def test_active_recurring_donor_emails_returns_only_active_monthly_and_annual_donors() -> None:
    RecurringDonationFactory(donor=DonorFactory(email="m@example.org"))
    RecurringDonationFactory(donor=DonorFactory(email="a@example.org"), frequency="annual")
    RecurringDonationFactory(
        donor=DonorFactory(email="c@example.org"), status=RecurringDonation.Status.CANCELLED
    )
    DonorFactory(email="once@example.org")
    asked = [" M@Example.org", "a@example.org", "c@example.org", "once@example.org", "x@y.z"]

    with CaptureQueriesContext(connection) as queries:
        found = active_recurring_donor_emails(asked)

    assert found == {"m@example.org", "a@example.org"}
    assert len(queries) == 1


def test_active_recurring_donor_emails_with_no_addresses_makes_no_query() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert active_recurring_donor_emails([]) == set()
    assert len(queries) == 0


def test_demo_data_is_idempotent_and_fills_the_figures() -> None:
    from donations.demo import load_demo_data
    from donations.figures import figures
    from donations.models import AmountPreset, Donation

    load_demo_data()
    counts = (Donation.objects.count(), RecurringDonation.objects.count())
    load_demo_data()

    assert (Donation.objects.count(), RecurringDonation.objects.count()) == counts
    assert AmountPreset.objects.count() == 27
    found = figures()
    assert found.active_donors["monthly"] >= 2
    assert sum(week.new for week in found.weeks) >= 5
