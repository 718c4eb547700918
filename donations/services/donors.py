"""Donors: found by their Stripe customer or their address, created when first seen."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from donations.models import Donor
from donations.selectors import normalise_email


def _donor_find(*, email: str, customer_id: str) -> Donor | None:
    """The donor of this Stripe customer, else the one with this address: one query."""
    query = (Q(stripe_customer_id=customer_id) if customer_id else Q()) | (
        Q(email=email) if email else Q()
    )
    found = list(Donor.objects.filter(query)[:2])  # each column is unique: two rows at most
    by_customer = [
        donor for donor in found if customer_id and donor.stripe_customer_id == customer_id
    ]
    return (by_customer or found)[0] if found else None


def donor_upsert(*, email: str, name: str = "", customer_id: str = "") -> Donor | None:
    """The donor for this Stripe customer or email; created when first seen.

    One query finds a known donor; a new one costs an INSERT in a savepoint. If a concurrent
    event for the same customer or address inserted the donor first, the second look finds it."""
    address = normalise_email(email) if email else ""
    if not customer_id and not address:
        return None
    donor = _donor_find(email=address, customer_id=customer_id)
    if donor is None and address:
        try:
            with transaction.atomic():
                donor = Donor.objects.create(
                    email=address, name=name[:200], stripe_customer_id=customer_id or None
                )
        except IntegrityError:
            donor = _donor_find(email=address, customer_id=customer_id)
            if donor is None:
                raise
    if donor is None:
        return None
    if customer_id and not donor.stripe_customer_id:
        donor.stripe_customer_id = customer_id
        donor.save(update_fields=["stripe_customer_id", "updated_at"])
    return donor
