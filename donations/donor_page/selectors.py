"""Reads for the donor's page: every gift of the donor, newest first, with its state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch

from donations.models import Donation, Donor, RecurringChange, RecurringDonation

# What the donor reads for each state (one word each, also a CSS class).
PAYMENT_STATES = {
    Donation.Status.PENDING: "pending",
    Donation.Status.PAID: "paid",
    Donation.Status.FAILED: "failed",
    Donation.Status.REFUNDED: "refunded",
    Donation.Status.DISPUTED: "disputed",
}
RECURRING_STATES = {
    RecurringDonation.Status.INCOMPLETE: "pending",
    RecurringDonation.Status.ACTIVE: "active",
    RecurringDonation.Status.PAST_DUE: "failed",
    RecurringDonation.Status.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class Gift:
    """A one-time gift (one payment) or a recurring gift (with its payments)."""

    date: datetime
    amount: Decimal
    currency: str
    frequency: str
    frequency_label: str
    state: str
    donation: Donation | None = None
    recurring: RecurringDonation | None = None
    payments: list[Donation] = field(default_factory=list)

    @property
    def next_charge_at(self) -> datetime | None:
        if self.recurring is None or self.state != "active":
            return None
        return self.recurring.next_charge_at

    @property
    def changeable(self) -> bool:
        return self.recurring is not None and self.state in {"active", "paused", "failed"}


def _recurring_state(recurring: RecurringDonation) -> str:
    state = RECURRING_STATES[RecurringDonation.Status(recurring.status)]
    return "paused" if recurring.paused and state == "active" else state


def donor_gifts(donor: Donor) -> list[Gift]:
    """Every gift of the donor, newest first: 2 queries."""
    payments = Donation.objects.order_by("-created_at", "-pk")
    recurring = donor.recurring.prefetch_related(Prefetch("payments", queryset=payments))
    gifts = [
        Gift(
            date=gift.started_at or gift.created_at,
            amount=gift.amount,
            currency=gift.currency,
            frequency=gift.frequency,
            frequency_label=gift.frequency_label,
            state=_recurring_state(gift),
            recurring=gift,
            payments=list(gift.payments.all()),
        )
        for gift in recurring
    ]
    gifts += [
        Gift(
            date=payment.paid_at or payment.created_at,
            amount=payment.amount,
            currency=payment.currency,
            frequency=payment.frequency,
            frequency_label=payment.frequency_label,
            state=PAYMENT_STATES[Donation.Status(payment.status)],
            donation=payment,
        )
        for payment in donor.donations.filter(recurring=None)
    ]
    return sorted(gifts, key=lambda gift: gift.date, reverse=True)


def donor_changes(donor: Donor) -> list[RecurringChange]:
    return list(RecurringChange.objects.filter(recurring__donor=donor).select_related("recurring"))


def donor_payment(donor: Donor, donation_id: int) -> Donation | None:
    """One of the donor's paid payments (a receipt exists only for those)."""
    return (
        Donation.objects.select_related("donor")
        .filter(pk=donation_id, donor=donor, status=Donation.Status.PAID)
        .first()
    )
