"""Stripe webhooks: record the verified, parsed event once and dispatch it by type.

The event row is written in the same transaction as its effects, so a handler that fails
leaves no trace and Stripe's retry runs it again; a replay finds the row and does nothing.
Each route names the object its handler takes; an event whose object is another kind is
malformed (400), so handlers only ever see the dataclass they declare.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db import transaction
from django.utils import timezone

from donations import stripe_client
from donations.appeals.services.counting import gift_count_from_session
from donations.models import StripeEvent
from donations.services import charges, disputes, invoices, payments, recurring
from donations.services.payments import from_timestamp
from newsroom.inserts import insert_if_new

logger = logging.getLogger(__name__)

Obj = TypeVar("Obj", bound=stripe_client.StripeObject)
Taken = TypeVar("Taken", bound=stripe_client.StripeObject, contravariant=True)


class Handler(Protocol[Taken]):
    def __call__(self, obj: Taken, /, *, event_created: int) -> None: ...


@dataclass(frozen=True)
class Route(Generic[Obj]):
    kind: type[Obj]
    handle: Handler[Obj]

    def __call__(self, event: stripe_client.Event) -> None:
        if not isinstance(event.object, self.kind):
            raise stripe_client.MalformedObject(
                extra={"stripe_event": event.id, "field": "data.object.object"}
            )
        self.handle(event.object, event_created=event.created)


def _session_completed(session: stripe_client.CheckoutSession, *, event_created: int) -> None:
    """The payment, and a gift for the appeal's variant the checkout started from (if any)."""
    payments.payment_record_from_session(session, failed=False, event_created=event_created)
    day = timezone.localdate(from_timestamp(event_created) or timezone.now())
    gift_count_from_session(session, day=day)


def _session_async_failed(session: stripe_client.CheckoutSession, *, event_created: int) -> None:
    payments.payment_record_from_session(session, failed=True, event_created=event_created)


Session, Invoice = stripe_client.CheckoutSession, stripe_client.Invoice
Subscription, Charge = stripe_client.Subscription, stripe_client.Charge
subscription_sync = recurring.recurring_sync_from_subscription

HANDLERS: dict[str, Route[Any]] = {
    "checkout.session.completed": Route(Session, _session_completed),
    "checkout.session.async_payment_succeeded": Route(Session, _session_completed),
    "checkout.session.async_payment_failed": Route(Session, _session_async_failed),
    "invoice.paid": Route(Invoice, invoices.payment_record_from_invoice),
    "invoice.payment_failed": Route(Invoice, invoices.payment_failed_from_invoice),
    "customer.subscription.created": Route(
        Subscription, recurring.recurring_sync_from_subscription
    ),
    "customer.subscription.updated": Route(
        Subscription, recurring.recurring_sync_from_subscription
    ),
    "customer.subscription.deleted": Route(
        Subscription, recurring.recurring_sync_from_subscription
    ),
    "charge.refunded": Route(Charge, charges.payment_refunded_from_charge),
    "charge.dispute.created": Route(stripe_client.Dispute, disputes.payment_dispute_record),
    "charge.dispute.closed": Route(stripe_client.Dispute, disputes.payment_dispute_record),
}

# The event types to enable on the Stripe webhook endpoint (see README).
EVENT_TYPES = tuple(HANDLERS)


def stripe_event_process(*, event: stripe_client.Event) -> bool:
    """Record and handle a verified event; False when it was already processed (a replay).

    The event's row is the transaction's first statement, an INSERT that does nothing when the
    event is recorded, or waits for a concurrent delivery of it to commit and then does nothing:
    a replay costs that statement alone. Database errors, `RetryLater` (a refund or dispute
    for a payment not recorded yet, terms Stripe could not give now) and `StripeUnavailable`
    propagate with nothing kept: the view answers 5xx and Stripe retries.
    """
    route = HANDLERS.get(event.type)
    with transaction.atomic():
        recorded = insert_if_new(
            StripeEvent(
                stripe_id=event.id,
                type=event.type,
                object_id=event.object_id,
                stripe_created=event.created,
                livemode=event.livemode,
                handled=route is not None,
            )
        )
        if recorded and route is not None:
            route(event)
    if not recorded:
        logger.info("stripe event replayed", extra={"stripe_event": event.id})
        return False
    logger.info(
        "stripe event processed",
        extra={"stripe_event": event.id, "type": event.type, "handled": route is not None},
    )
    return True
