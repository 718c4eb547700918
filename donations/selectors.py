"""Non-trivial reads: who gives, and figures for staff (see `donations/figures.py`)."""

from __future__ import annotations

from collections.abc import Iterable

from donations import frequencies
from donations.models import RecurringDonation

ACTIVE_RECURRING = (RecurringDonation.Status.ACTIVE, RecurringDonation.Status.PAST_DUE)


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
