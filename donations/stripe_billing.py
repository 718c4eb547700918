"""The Stripe boundary for a donor's own changes: a subscription's terms read into one typed
object, amount and interval changes without proration, pause and resume, customer deletion.

Part of the boundary in `donations/stripe_client.py` (its client, error mapping and minor-unit
conversion); it does not import `stripe` itself. Amounts are `Decimal` + currency here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from donations.stripe_client import StripeRefused, _call, _client, from_minor, to_minor

# Stripe's recurring intervals for our frequencies, and back.
INTERVALS = {"monthly": "month", "annual": "year"}
FREQUENCIES = {interval: frequency for frequency, interval in INTERVALS.items()}


@dataclass(frozen=True)
class SubscriptionTerms:
    """What a subscription says about the gift: read from an event's object or an API answer."""

    id: str
    customer_id: str
    status: str
    item_id: str
    product_id: str
    amount: Decimal | None  # None when the object names no priced item
    currency: str
    frequency: str  # "monthly" / "annual", or "" for an interval we do not sell
    current_period_end: int | None
    paused: bool


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id_of(value: object) -> str:
    """An id, whether the field holds it or an expanded object."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def subscription_terms(subscription: Mapping[str, Any]) -> SubscriptionTerms:
    """Parse a subscription object once; fields it lacks come back empty, never invented."""
    data = _mapping(subscription.get("items")).get("data")
    item = _mapping(data[0] if isinstance(data, list) and data else None)
    price = _mapping(item.get("price"))
    recurring = _mapping(price.get("recurring"))
    currency = _text(price.get("currency")) or _text(subscription.get("currency"))
    unit_amount = price.get("unit_amount")
    raw_quantity = item.get("quantity")
    quantity = raw_quantity if isinstance(raw_quantity, int) else 1
    amount = (
        from_minor(unit_amount * quantity, currency)
        if isinstance(unit_amount, int) and currency
        else None
    )
    interval, count = recurring.get("interval"), recurring.get("interval_count", 1)
    period_end = item.get("current_period_end")
    return SubscriptionTerms(
        id=_text(subscription.get("id")),
        customer_id=_id_of(subscription.get("customer")),
        status=_text(subscription.get("status")),
        item_id=_text(item.get("id")),
        product_id=_id_of(price.get("product")),
        amount=amount,
        currency=currency,
        frequency=FREQUENCIES.get(_text(interval), "") if count == 1 else "",
        current_period_end=period_end if isinstance(period_end, int) else None,
        paused=bool(subscription.get("pause_collection")),
    )


def subscription_retrieve(subscription_id: str) -> SubscriptionTerms:
    found = _call(lambda: _client().v1.subscriptions.retrieve(subscription_id))
    return subscription_terms(found.to_dict())


def _update(
    subscription_id: str, params: dict[str, Any], idempotency_key: str
) -> SubscriptionTerms:
    updated = _call(
        lambda: _client().v1.subscriptions.update(
            subscription_id,
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    )
    return subscription_terms(updated.to_dict())


def subscription_terms_change(
    *, current: SubscriptionTerms, amount: Decimal, frequency: str, idempotency_key: str
) -> SubscriptionTerms:
    """A new amount and/or interval for the subscription's one item, with proration off (the
    period already paid stays as paid). A new interval restarts the period today: Stripe
    charges the new amount at once and then every interval from today."""
    if not current.item_id or not current.product_id or not current.currency:
        raise StripeRefused("subscription has no priced item to change", code="no_item")
    price_data = {
        "currency": current.currency,
        "product": current.product_id,
        "unit_amount": to_minor(amount, current.currency),
        "recurring": {"interval": INTERVALS[frequency]},
    }
    params = {
        "items": [{"id": current.item_id, "price_data": price_data, "quantity": 1}],
        "proration_behavior": "none",
        "metadata": {"frequency": frequency},
    }
    return _update(current.id, params, idempotency_key)


def subscription_pause(subscription_id: str, *, idempotency_key: str) -> SubscriptionTerms:
    """Stop collecting: the renewals that fall while paused are voided, nothing is charged."""
    return _update(subscription_id, {"pause_collection": {"behavior": "void"}}, idempotency_key)


def subscription_resume(subscription_id: str, *, idempotency_key: str) -> SubscriptionTerms:
    """Collect again from the next renewal on (an empty value clears `pause_collection`)."""
    return _update(subscription_id, {"pause_collection": ""}, idempotency_key)


def customer_delete(customer_id: str) -> None:
    """Delete the customer in Stripe (its saved cards and details go; its payments stay in
    Stripe's records). One already deleted is not an error."""
    try:
        _call(lambda: _client().v1.customers.delete(customer_id))
    except StripeRefused as error:
        if error.code != "resource_missing":
            raise
