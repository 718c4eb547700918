"""Recurring gifts (Stripe subscriptions): created when first seen by any event, with terms
(frequency, amount) read from Stripe's objects or fetched from Stripe, never invented, and
replaced by newer statements (`gift_terms.py` says which is newer); status applied only from an
event at least as new as the one that last set it; cancelled is final."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from donations import stripe_client
from donations.models import Donor, FailedPayment, RecurringDonation
from donations.services.donors import donor_upsert
from donations.services.emails import send_past_due_notice
from donations.services.errors import DonationError
from donations.services.gift_terms import invoice_terms, recurring_terms_apply
from donations.services.terms import GiftTerms, terms_of_invoice, terms_of_subscription

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
# Stripe's `created` is in whole seconds, and Checkout emits the subscription (still
# `incomplete`), its paid invoice and the session within one: between two events of the same
# second the later status in this order wins, whatever order they are processed in.
SAME_SECOND_RANK = {
    RecurringDonation.Status.INCOMPLETE: 0,
    RecurringDonation.Status.ACTIVE: 1,
    RecurringDonation.Status.PAST_DUE: 2,
    RecurringDonation.Status.CANCELLED: 3,
}


class UnknownSubscriptionStatus(DonationError):
    """A subscription status Stripe's pinned API version does not have."""


def recurring_lock(
    *,
    subscription_id: str,
    terms: Callable[[], GiftTerms],
    donor: Donor | None,
    customer_id: str = "",
    stated_at: int = 0,
) -> RecurringDonation:
    """The recurring gift for this subscription, locked for this transaction. Locking it
    serialises every event about the same gift. When first seen it is created with `terms()`,
    which reads them from the event's object or fetches them from Stripe (or raises
    `RetryLater`), as stated at `stated_at` (see `gift_terms`: later statements replace them);
    a gift already recorded asks nothing."""
    rows = RecurringDonation.objects.select_for_update()
    recurring = rows.filter(stripe_subscription_id=subscription_id).first()
    if recurring is None:
        found = terms()
        # Created concurrently by another event: IntegrityError, and we lock that row below.
        with contextlib.suppress(IntegrityError), transaction.atomic():
            RecurringDonation.objects.create(
                stripe_subscription_id=subscription_id,
                frequency=found.frequency,
                amount=found.amount.amount,
                currency=found.amount.currency,
                stripe_price_id=found.price_id,
                terms_changed_by_event_at=stated_at,
                donor=donor,
                stripe_customer_id=customer_id,
            )
        recurring = rows.get(stripe_subscription_id=subscription_id)
    changed = []
    if donor is not None and recurring.donor_id is None:
        recurring.donor = donor
        changed.append("donor")
    if customer_id and not recurring.stripe_customer_id:
        recurring.stripe_customer_id = customer_id
        changed.append("stripe_customer_id")
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


def recurring_sync_from_subscription(
    subscription: stripe_client.Subscription, *, event_created: int
) -> None:
    """customer.subscription.created / updated / deleted."""
    status = STRIPE_STATUSES.get(subscription.status)
    if status is None:
        raise UnknownSubscriptionStatus(
            extra={"subscription": subscription.id, "stripe_status": subscription.status[:40]}
        )
    customer_id = subscription.customer_id or ""
    recurring = recurring_lock(
        subscription_id=subscription.id,
        terms=lambda: terms_of_subscription(subscription),
        donor=donor_upsert(email="", customer_id=customer_id),
        customer_id=customer_id,
        stated_at=event_created,
    )
    if recurring.started_at is None and subscription.start_date:
        recurring.started_at = datetime.fromtimestamp(subscription.start_date, tz=UTC)
        recurring.save(update_fields=["started_at", "updated_at"])
    recurring_status_apply(recurring=recurring, status=status, at=event_created)
    # Amount, frequency, next charge and pause as the subscription states them now (a change
    # made on the donor's page or in the Billing Portal arrives here).
    recurring_terms_apply(recurring=recurring, subscription=subscription, at=event_created)


def recurring_payment_failed(
    invoice: stripe_client.Invoice, *, donor: Donor | None, event_created: int
) -> None:
    """invoice.payment_failed: past due, and one "fix your card" email per failed invoice,
    saying what the invoice asked for. A failed renewal that arrives first creates the gift
    with its real terms (the invoice's price, fetched from Stripe)."""
    if not invoice.subscription_id:
        return  # not a subscription's invoice: no recurring gift to mark
    recurring = recurring_lock(
        subscription_id=invoice.subscription_id,
        terms=lambda: terms_of_invoice(invoice),
        donor=donor,
        customer_id=invoice.customer_id or "",
        stated_at=invoice.created or 0,
    )
    terms = invoice_terms(recurring=recurring, invoice=invoice)
    recurring_status_apply(
        recurring=recurring, status=RecurringDonation.Status.PAST_DUE, at=event_created
    )
    failure, created = FailedPayment.objects.get_or_create(
        stripe_invoice_id=invoice.id,
        defaults={
            "recurring": recurring,
            "frequency": terms.frequency,
            "amount": invoice.amount_due.amount,
            "currency": invoice.amount_due.currency,
        },
    )
    if created and recurring.status == RecurringDonation.Status.PAST_DUE:
        send_past_due_notice.delay_on_commit(failure.pk)
