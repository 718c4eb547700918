"""Recurring gifts (Stripe subscriptions): created when first seen by any event, status applied
only from an event at least as new as the one that last set it; cancelled is final."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from donations import stripe_client
from donations.models import Donor, FailedPayment, Frequency, RecurringDonation
from donations.services.donors import donor_upsert
from donations.services.emails import send_past_due_notice
from donations.services.gift_terms import recurring_terms_apply
from donations.stripe_billing import subscription_terms

logger = logging.getLogger(__name__)

STRIPE_STATUSES = {
    "active": RecurringDonation.Status.ACTIVE,
    "trialing": RecurringDonation.Status.ACTIVE,
    "past_due": RecurringDonation.Status.PAST_DUE,
    "unpaid": RecurringDonation.Status.PAST_DUE,
    "canceled": RecurringDonation.Status.CANCELLED,
    "incomplete_expired": RecurringDonation.Status.CANCELLED,
    "incomplete": RecurringDonation.Status.INCOMPLETE,
    "paused": RecurringDonation.Status.INCOMPLETE,
}
INTERVALS = {"month": Frequency.MONTHLY, "year": Frequency.ANNUAL}
# Stripe's `created` is in whole seconds, and Checkout emits the subscription (still
# `incomplete`), its paid invoice and the session within one: between two events of the same
# second the later status in this order wins, whatever order they are processed in.
SAME_SECOND_RANK = {
    RecurringDonation.Status.INCOMPLETE: 0,
    RecurringDonation.Status.ACTIVE: 1,
    RecurringDonation.Status.PAST_DUE: 2,
    RecurringDonation.Status.CANCELLED: 3,
}


def recurring_lock(
    *,
    subscription_id: str,
    frequency: str,
    amount: Decimal,
    currency: str,
    donor: Donor | None,
    customer_id: str = "",
) -> RecurringDonation:
    """The recurring gift for this subscription, locked for this transaction (created when
    first seen). Locking it serialises every event about the same gift."""
    # Created concurrently by another event: IntegrityError, and we lock that row below.
    with contextlib.suppress(IntegrityError), transaction.atomic():
        RecurringDonation.objects.get_or_create(
            stripe_subscription_id=subscription_id,
            defaults={
                "frequency": frequency,
                "amount": amount,
                "currency": currency,
                "donor": donor,
                "stripe_customer_id": customer_id,
            },
        )
    recurring = RecurringDonation.objects.select_for_update().get(
        stripe_subscription_id=subscription_id
    )
    changed = []
    if donor is not None and recurring.donor_id is None:
        recurring.donor = donor
        changed.append("donor")
    if customer_id and not recurring.stripe_customer_id:
        recurring.stripe_customer_id = customer_id
        changed.append("stripe_customer_id")
    if amount and not recurring.amount:
        recurring.amount, recurring.currency = amount, currency
        changed += ["amount", "currency"]
    if changed:
        recurring.save(update_fields=[*changed, "updated_at"])
    return recurring


def recurring_status_apply(*, recurring: RecurringDonation, status: str, at: int) -> bool:
    """Apply `status` set by a Stripe event created at `at` unless a newer event already set
    the status, or the gift is cancelled (final)."""
    if recurring.status == RecurringDonation.Status.CANCELLED:
        return False
    if at < recurring.status_changed_by_event_at or recurring.status == status:
        return False
    if at == recurring.status_changed_by_event_at and (
        SAME_SECOND_RANK[RecurringDonation.Status(status)]
        < SAME_SECOND_RANK[RecurringDonation.Status(recurring.status)]
    ):
        return False
    recurring.status = status
    recurring.status_changed_by_event_at = at
    fields = ["status", "status_changed_by_event_at", "updated_at"]
    now = datetime.fromtimestamp(at, tz=UTC) if at else datetime.now(tz=UTC)  # the event's time
    if status == RecurringDonation.Status.ACTIVE and recurring.started_at is None:
        recurring.started_at = now
        fields.append("started_at")
    if status == RecurringDonation.Status.CANCELLED:
        recurring.cancelled_at = now
        fields.append("cancelled_at")
    recurring.save(update_fields=fields)
    logger.info(
        "recurring gift status",
        extra={"subscription": recurring.stripe_subscription_id, "status": status},
    )
    return True


def recurring_sync_from_subscription(subscription: dict[str, Any], *, event_created: int) -> None:
    """customer.subscription.created / updated / deleted."""
    items = (subscription.get("items") or {}).get("data") or [{}]
    price = items[0].get("price") or {}
    interval = (price.get("recurring") or {}).get("interval", "month")
    currency = subscription.get("currency") or price.get("currency") or "usd"
    metadata = subscription.get("metadata") or {}
    recurring = recurring_lock(
        subscription_id=subscription["id"],
        frequency=metadata.get("frequency") or INTERVALS.get(interval, Frequency.MONTHLY),
        amount=stripe_client.from_minor((price.get("unit_amount") or 0), currency),
        currency=currency,
        donor=donor_upsert(email="", customer_id=subscription.get("customer") or ""),
        customer_id=subscription.get("customer") or "",
    )
    status = STRIPE_STATUSES.get(
        subscription.get("status", ""), RecurringDonation.Status.INCOMPLETE
    )
    if recurring.started_at is None and subscription.get("start_date"):
        recurring.started_at = datetime.fromtimestamp(subscription["start_date"], tz=UTC)
        recurring.save(update_fields=["started_at", "updated_at"])
    recurring_status_apply(recurring=recurring, status=status, at=event_created)
    # Amount, frequency, next charge and pause as the subscription states them now (a change
    # made on the donor's page or in the Billing Portal arrives here).
    recurring_terms_apply(
        recurring=recurring, terms=subscription_terms(subscription), at=event_created
    )


def recurring_payment_failed(
    *, subscription_id: str, invoice_id: str, donor: Donor | None, event_created: int
) -> None:
    """invoice.payment_failed: past due, and one "fix your card" email per failed invoice."""
    recurring = recurring_lock(
        subscription_id=subscription_id,
        frequency=Frequency.MONTHLY,
        amount=Decimal("0"),
        currency="usd",
        donor=donor,
    )
    recurring_status_apply(
        recurring=recurring, status=RecurringDonation.Status.PAST_DUE, at=event_created
    )
    failure, created = FailedPayment.objects.get_or_create(
        stripe_invoice_id=invoice_id, defaults={"recurring": recurring}
    )
    if created and recurring.status == RecurringDonation.Status.PAST_DUE:
        send_past_due_notice.delay_on_commit(failure.pk)
