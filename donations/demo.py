"""Demo rows for the run command (see newsroom/management/commands/load_demo.py).

A few donors, payments and recurring gifts over the last twelve weeks, so the admin and the
figures page are not empty (the banner's presets come from migration 0003). Stripe ids start
with `demo_`."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from donations.models import Donation, Donor, RecurringDonation

DEMO_GIFTS = [
    # email, frequency, amount, currency, weeks ago, cancelled weeks ago
    ("amira@example.org", "monthly", "5", "usd", 11, None),
    ("bruno@example.org", "monthly", "10", "eur", 9, 3),
    ("chen@example.org", "annual", "100", "usd", 7, None),
    ("dana@example.org", "monthly", "2", "gbp", 5, None),
    ("emeka@example.org", "once", "25", "usd", 4, None),
    ("farah@example.org", "annual", "50", "eur", 2, None),
    ("gustav@example.org", "once", "50", "gbp", 1, None),
    ("hana@example.org", "monthly", "5", "usd", 0, None),
]


def load_demo_data() -> None:
    """Idempotent: running it twice changes nothing the second time."""
    with transaction.atomic():
        now = timezone.now()
        for n, (email, frequency, amount, currency, weeks, cancelled) in enumerate(DEMO_GIFTS):
            _gift(n, email, frequency, Decimal(amount), currency, now - timedelta(weeks=weeks),
                  now - timedelta(weeks=cancelled) if cancelled is not None else None)  # fmt: skip


def _gift(
    n: int,
    email: str,
    frequency: str,
    amount: Decimal,
    currency: str,
    started: datetime,
    cancelled: datetime | None,
) -> None:
    donor, _ = Donor.objects.get_or_create(
        email=email, defaults={"stripe_customer_id": f"demo_cus_{n:04d}"}
    )
    recurring = None
    if frequency != "once":
        recurring, _ = RecurringDonation.objects.get_or_create(
            stripe_subscription_id=f"demo_sub_{n:04d}",
            defaults={
                "donor": donor, "frequency": frequency, "amount": amount, "currency": currency,
                "stripe_customer_id": donor.stripe_customer_id or "",
                "status": "cancelled" if cancelled else "active",
                "started_at": started, "cancelled_at": cancelled,
            },
        )  # fmt: skip
    Donation.objects.get_or_create(
        stripe_payment_intent_id=f"demo_pi_{n:04d}",
        defaults={
            "donor": donor, "recurring": recurring, "frequency": frequency, "amount": amount,
            "currency": currency, "status": Donation.Status.PAID, "paid_at": started,
            "is_first_payment": recurring is not None, "receipt_sent_at": started,
        },
    )  # fmt: skip
