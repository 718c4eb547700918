"""Stripe webhooks: verify, record the event once, dispatch by type.

The event row is written in the same transaction as its effects, so a handler that fails
leaves no trace and Stripe's retry runs it again; a replay finds the row and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from appeals.services.counting import gift_count_from_session
from donations import stripe_client
from donations.models import StripeEvent
from donations.services import invoices, payments, recurring
from donations.services.payments import from_timestamp

logger = logging.getLogger(__name__)

Handler = Callable[..., None]


def _session_completed(obj: dict[str, Any], *, event_created: int) -> None:
    payments.payment_record_from_session(obj, failed=False, event_created=event_created)
    amount = stripe_client.from_minor(obj.get("amount_total") or 0, obj.get("currency") or "usd")
    day = from_timestamp(event_created) or timezone.now()
    gift_count_from_session(obj, amount=amount, day=timezone.localdate(day))


def _session_async_failed(obj: dict[str, Any], *, event_created: int) -> None:
    payments.payment_record_from_session(obj, failed=True, event_created=event_created)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": _session_async_failed,
    "invoice.paid": invoices.payment_record_from_invoice,
    "invoice.payment_failed": invoices.payment_failed_from_invoice,
    "customer.subscription.created": recurring.recurring_sync_from_subscription,
    "customer.subscription.updated": recurring.recurring_sync_from_subscription,
    "customer.subscription.deleted": recurring.recurring_sync_from_subscription,
    "charge.refunded": invoices.payment_refunded_from_charge,
    "charge.dispute.created": invoices.payment_disputed,
}

# The event types to enable on the Stripe webhook endpoint (see README).
EVENT_TYPES = tuple(HANDLERS)


def stripe_event_process(*, event: dict[str, Any]) -> bool:
    """Record and handle a verified event; False when it was already processed (a replay).

    Database errors and `RetryLater` (a refund or dispute for a payment not recorded yet)
    propagate with nothing kept: the view answers 5xx and Stripe retries.
    """
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    handler = HANDLERS.get(event["type"])
    try:
        with transaction.atomic():
            _, created = StripeEvent.objects.get_or_create(
                stripe_id=event["id"],
                defaults={
                    "type": event["type"][:100],
                    "object_id": str(obj.get("id", ""))[:255],
                    "stripe_created": int(event.get("created") or 0),
                    "livemode": bool(event.get("livemode")),
                    "handled": handler is not None,
                },
            )
            if not created:
                logger.info("stripe event replayed", extra={"stripe_event": event["id"]})
                return False
            if handler is not None:
                handler(obj, event_created=int(event.get("created") or 0))
    except IntegrityError:
        if StripeEvent.objects.filter(stripe_id=event["id"]).exists():
            return False  # the same event processed concurrently and committed first
        raise
    logger.info(
        "stripe event processed",
        extra={"stripe_event": event["id"], "type": event["type"], "handled": bool(handler)},
    )
    return True
