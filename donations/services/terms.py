"""What a recurring gift is (its frequency and amount), read from Stripe's objects and never
guessed. A price says it (its interval through the frequencies table, its unit amount); a
subscription says it through its item's price; an invoice names only a price id, so its terms
are fetched from Stripe. What Stripe cannot tell us now is `RetryLater` (Stripe sends the
event again); an interval no frequency has is `UnknownFrequency`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from donations import frequencies, stripe_client
from donations.services.errors import DonationError, RetryLater

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GiftTerms:
    frequency: str  # a recurring row of the frequencies table
    amount: stripe_client.Money
    price_id: str = ""  # the Stripe price they were read from ("" when read from a session)


class NoFixedAmount(DonationError):
    """A recurring price without a unit amount (tiered, metered): not a gift we can record."""


def terms_of_price(price: stripe_client.Price) -> GiftTerms:
    if price.recurring is None:
        raise frequencies.UnknownFrequency(extra={"price": price.id, "recurring": False})
    row = frequencies.for_interval(price.recurring.interval, price.recurring.interval_count)
    if price.unit_amount is None:
        raise NoFixedAmount(extra={"price": price.id})
    return GiftTerms(frequency=row.value, amount=price.unit_amount, price_id=price.id)


def terms_of_subscription(subscription: stripe_client.Subscription) -> GiftTerms:
    """From the subscription's price; fetched when the object came without its items."""
    price = subscription.price
    if price is None:
        price = stripe_client.subscription_retrieve(subscription.id).price
    if price is None:
        raise RetryLater(extra={"subscription": subscription.id, "missing": "price"})
    return terms_of_price(price)


def terms_of_invoice(invoice: stripe_client.Invoice) -> GiftTerms:
    """An invoice's lines name their price by id only: fetch the price (or, with no line
    price, the subscription)."""
    logger.info("fetching a recurring gift's terms", extra={"invoice": invoice.id})
    if invoice.price_ids:
        return terms_of_price(stripe_client.price_retrieve(invoice.price_ids[0]))
    if invoice.subscription_id:
        return terms_of_subscription(stripe_client.subscription_retrieve(invoice.subscription_id))
    raise RetryLater(extra={"invoice": invoice.id, "missing": "price"})


def terms_of_session(session: stripe_client.CheckoutSession) -> GiftTerms:
    """A subscription-mode Checkout Session: the frequency we sent as its metadata (with its
    price, in the same call) and its total; else the subscription's own price, fetched."""
    row = frequencies.find(session.frequency)
    if row is not None and row.is_recurring and session.amount_total is not None:
        return GiftTerms(frequency=row.value, amount=session.amount_total)
    if not session.subscription_id:
        raise RetryLater(extra={"stripe_session": session.id, "missing": "subscription"})
    return terms_of_subscription(stripe_client.subscription_retrieve(session.subscription_id))
