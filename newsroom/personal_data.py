"""One person's data across the apps, found by their email address: a copy for them, and its
erasure. Used by the donor's own page and by staff in the admin (the same two actions).

Erasure: Stripe first (live recurring gifts cancelled, customers deleted), then in one
transaction the donor's rows anonymised, reminders with the address deleted, the newsletter
subscriber and their delivery history deleted, and the address remembered only as a keyed
hash (`newsroom.erased`). A Stripe failure stops before any row changes; repeating is safe.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.utils import timezone

from donations.models import Donor
from donations.selectors import normalise_email
from donations.services import donor_data
from newsletter.models import Subscriber
from newsletter.services.subscriber_data import subscriber_data_export, subscriber_erase
from newsroom.db_retry import atomic_retrying
from newsroom.erased import erased_address_remember


def personal_data_export(*, email: str) -> dict[str, Any]:
    """Everything stored about `email` (JSON-ready), and nothing of anyone else."""
    address = normalise_email(email)
    subscriber_id = Subscriber.objects.filter(email=address).values_list("pk", flat=True).first()
    return {
        "address": address,
        "exported_at": timezone.now().isoformat(),
        "donations": donor_data.donations_data_export(email=address),
        "newsletter": (
            subscriber_data_export(subscriber_id=subscriber_id) if subscriber_id else None
        ),
    }


def personal_data_erase(*, donor: Donor | None = None, email: str = "") -> None:
    """Erase the donor (if any) and everything stored under their address (or `email`)."""
    address = normalise_email(email or (donor.email if donor and donor.email else ""))
    cancelled = donor_data.donor_stripe_forget(donor=donor) if donor is not None else []
    # A Stripe event about the same gift may be recorded meanwhile: the rows are locked in the
    # webhooks' order, and should the database still break a deadlock, the erasure runs again.
    atomic_retrying(partial(_rows_erase, donor, cancelled, address), name="personal data erase")


def _rows_erase(donor: Donor | None, cancelled: list[int], address: str) -> None:
    if donor is not None:
        donor_data.donor_rows_anonymise(donor=donor, cancelled=cancelled)
    if address:
        donor_data.reminders_erase(email=address)
        subscriber_id = (
            Subscriber.objects.filter(email=address).values_list("pk", flat=True).first()
        )
        if subscriber_id is not None:
            subscriber_erase(subscriber_id=subscriber_id)
        erased_address_remember(address)
