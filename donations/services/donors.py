"""Donors: found by their Stripe customer or their address, created when first seen."""

from __future__ import annotations

from django.db import IntegrityError
from django.db.models import Q

from donations.models import Donor
from donations.selectors import normalise_email
from newsroom.inserts import insert_if_new


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

    A new donor (with an address) is one statement: the INSERT, which does nothing when the
    customer or the address is known (or being recorded by a concurrent event, whose commit it
    waits for); only then is the donor looked up, by customer first."""
    address = normalise_email(email) if email else ""
    if not customer_id and not address:
        return None
    if address:
        new = Donor(email=address, name=name[:200], stripe_customer_id=customer_id or None)
        if insert_if_new(new):
            return new
    donor = _donor_find(email=address, customer_id=customer_id)
    if donor is None:
        if address:  # taken, yet neither the customer nor the address matches: cannot be
            raise IntegrityError("donor insert conflicted but no donor matches")
        return None
    if customer_id and not donor.stripe_customer_id:
        donor.stripe_customer_id = customer_id
        donor.save(update_fields=["stripe_customer_id", "updated_at"])
    return donor
