"""Refunds from charges, and finding the payment a charge (or its dispute) is about."""

from __future__ import annotations

import logging
import time

from donations import stripe_client
from donations.models import Donation
from donations.services.errors import RetryLater
from donations.services.payments import donation_status_advance

logger = logging.getLogger(__name__)

# How long a refund or dispute for a payment we have not recorded yet is sent back to Stripe to
# retry: its checkout or invoice event may still be on its way (Stripe retries for 3 days).
ORPHAN_RETRY_SECONDS = 3 * 86400


def donation_for_charge(*, payment_intent: str, charge_id: str) -> Donation | None:
    """The payment a charge belongs to, locked; its charge id is filled in when first seen."""
    rows = Donation.objects.select_for_update()
    found = rows.filter(stripe_payment_intent_id=payment_intent).first() if payment_intent else None
    if found is None and charge_id:
        found = rows.filter(stripe_charge_id=charge_id).first()
    if found is not None and charge_id and not found.stripe_charge_id:
        found.stripe_charge_id = charge_id
        found.save(update_fields=["stripe_charge_id", "updated_at"])
    return found


def payment_not_recorded_yet(*, kind: str, object_id: str, event_created: int) -> None:
    """A refund or dispute can arrive before the payment it is about (or, for a renewal, before
    the payment intent is filled in): ask Stripe to send it again while that is plausible."""
    if time.time() - event_created < ORPHAN_RETRY_SECONDS:
        raise RetryLater(f"{kind} {object_id} for a payment not recorded yet")
    logger.warning("payment unknown", extra={"kind": kind, "stripe_object": object_id})


def payment_refunded_from_charge(charge: stripe_client.Charge, *, event_created: int) -> None:
    """charge.refunded: record the refunded amount; a full refund marks the payment refunded."""
    donation = donation_for_charge(
        payment_intent=charge.payment_intent_id or "", charge_id=charge.id
    )
    if donation is None:
        payment_not_recorded_yet(kind="refund", object_id=charge.id, event_created=event_created)
        return
    refunded = charge.amount_refunded.amount
    if refunded > donation.amount_refunded:
        donation.amount_refunded = refunded
        donation.save(update_fields=["amount_refunded", "updated_at"])
    if charge.refunded or refunded >= donation.amount:
        donation_status_advance(donation=donation, status=Donation.Status.REFUNDED)
