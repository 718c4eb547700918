"""Donors: found by their Stripe customer or their address, created when first seen."""

from __future__ import annotations

from donations.models import Donor
from donations.selectors import normalise_email


def donor_upsert(*, email: str, name: str = "", customer_id: str = "") -> Donor | None:
    """The donor for this Stripe customer or email; created when first seen."""
    donor = Donor.objects.filter(stripe_customer_id=customer_id).first() if customer_id else None
    if donor is None and email:
        donor, _ = Donor.objects.get_or_create(
            email=normalise_email(email),
            defaults={"name": name[:200], "stripe_customer_id": customer_id or None},
        )
    if donor is None:
        return None
    if customer_id and not donor.stripe_customer_id:
        donor.stripe_customer_id = customer_id
        donor.save(update_fields=["stripe_customer_id", "updated_at"])
    return donor
