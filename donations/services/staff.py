"""Actions staff take from the admin. Stripe is asked first; our rows change only when it
agrees (and again, idempotently, when its webhook arrives). Erasing a person's data is
`newsroom.personal_data.personal_data_erase` (the same as the donor's own "Delete my data")."""

from __future__ import annotations

import logging
import time

from django.db import transaction

from donations import stripe_client
from donations.models import Donation, RecurringDonation
from donations.services.errors import DonationError
from donations.services.payments import donation_status_advance
from donations.services.recurring import recurring_status_apply

logger = logging.getLogger(__name__)


def donation_refund(*, donation: Donation) -> Donation:
    """Refund a paid payment in full through Stripe."""
    if donation.status != Donation.Status.PAID:
        raise DonationError(f"Only paid payments can be refunded (this one is {donation.status}).")
    if not donation.stripe_payment_intent_id:
        raise DonationError("This payment has no Stripe payment intent to refund.")
    stripe_client.refund_create(
        payment_intent_id=donation.stripe_payment_intent_id,
        idempotency_key=f"refund-donation-{donation.pk}",
    )
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        locked.amount_refunded = locked.amount
        locked.save(update_fields=["amount_refunded", "updated_at"])
        donation_status_advance(donation=locked, status=Donation.Status.REFUNDED)
    logger.info("donation refunded by staff", extra={"donation": donation.pk})
    return locked


def recurring_cancel(*, recurring: RecurringDonation) -> RecurringDonation:
    """Cancel a recurring gift at once through Stripe."""
    if recurring.status == RecurringDonation.Status.CANCELLED:
        raise DonationError("This recurring gift is already cancelled.")
    stripe_client.subscription_cancel(recurring.stripe_subscription_id)
    with transaction.atomic():
        locked = RecurringDonation.objects.select_for_update().get(pk=recurring.pk)
        recurring_status_apply(
            recurring=locked, status=RecurringDonation.Status.CANCELLED, at=int(time.time())
        )
    logger.info(
        "recurring gift cancelled by staff",
        extra={"subscription": recurring.stripe_subscription_id},
    )
    return locked
