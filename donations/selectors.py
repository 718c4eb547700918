"""Non-trivial reads: who gives, and figures for staff (see `donations/figures.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from donations import frequencies
from donations.models import Donation, RecurringDonation

ACTIVE_RECURRING = (RecurringDonation.Status.ACTIVE, RecurringDonation.Status.PAST_DUE)
# A payment that was paid, whatever happened to it since (refunded, disputed): the donor gave.
GIVEN = (Donation.Status.PAID, Donation.Status.REFUNDED, Donation.Status.DISPUTED)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def active_recurring_donor_emails(emails: Iterable[str]) -> set[str]:
    """Those of `emails` (normalised, lower-cased) whose donor has an active recurring
    gift (a past-due gift still counts until Stripe gives up and cancels it). One query."""
    wanted = {normalise_email(email) for email in emails if email}
    if not wanted:
        return set()
    rows = RecurringDonation.objects.filter(
        donor__email__in=wanted,
        status__in=ACTIVE_RECURRING,
        frequency__in=frequencies.recurring_values(),
    ).values_list("donor__email", flat=True)
    return {email for email in rows if email}


def address_gave_since(email: str, since: datetime) -> bool:
    """Whether a payment from this address (its donor's, compared normalised: donors' addresses
    are stored trimmed and lower-cased, in the clear) was paid at or after `since`."""
    address = normalise_email(email)
    if not address:
        return False
    return Donation.objects.filter(
        donor__email=address, status__in=GIVEN, paid_at__gte=since
    ).exists()
