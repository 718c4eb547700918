"""Stripe's objects as we use them: small frozen dataclasses, built only by `parse.py` from a
verified event or an API answer, so code past the boundary never digs in a dict. Each keeps
only the fields some code reads; amounts are `Money`; ids of expandable fields are plain ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from donations.stripe_client.money import Money


@dataclass(frozen=True)
class Recurring:
    interval: str  # day, week, month, year
    interval_count: int


@dataclass(frozen=True)
class Price:
    id: str
    unit_amount: Money | None  # None for a price without a fixed amount (tiers, pay-what-you-want)
    recurring: Recurring | None  # None for a one-time price
    product_id: str | None = None  # a new price for the same gift names the same product


@dataclass(frozen=True)
class SubscriptionItem:
    id: str
    price: Price
    current_period_end: int | None  # when the period paid for ends: the next charge


@dataclass(frozen=True)
class Subscription:
    id: str
    status: str  # Stripe's: active, past_due, canceled, incomplete, ...
    customer_id: str | None
    start_date: int | None
    prices: tuple[Price, ...]  # the price of each item, in order (ours have one)
    items: tuple[SubscriptionItem, ...] = ()  # the items themselves (ids, periods)
    paused: bool = False  # `pause_collection` is set: renewals charge nothing

    @property
    def price(self) -> Price | None:
        return self.prices[0] if self.prices else None

    @property
    def item(self) -> SubscriptionItem | None:
        return self.items[0] if self.items else None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None  # only while it is open
    mode: str  # payment, subscription or setup
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: Money | None
    email: str | None  # `customer_details.email` (what the reader typed), else `customer_email`
    name: str | None  # `customer_details.name`
    customer_id: str | None
    payment_intent_id: str | None
    invoice_id: str | None
    subscription_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def frequency(self) -> str:
        """The frequency we sent as metadata when we created the session ("" if none)."""
        return self.metadata.get("frequency", "")

    @property
    def paid(self) -> bool:
        return self.payment_status in {"paid", "no_payment_required"}


@dataclass(frozen=True)
class InvoicePayment:
    status: str
    payment_intent_id: str | None


@dataclass(frozen=True)
class Invoice:
    id: str
    customer_id: str | None
    email: str | None  # `customer_email`
    name: str | None  # `customer_name`
    amount_paid: Money
    amount_due: Money
    billing_reason: str | None
    paid_at: int | None  # `status_transitions.paid_at`
    subscription_id: str | None  # `parent.subscription_details.subscription`
    subscription_metadata: Mapping[str, str]  # the subscription's metadata when invoiced
    price_ids: tuple[str, ...]  # each line's `pricing.price_details.price`, in order
    payments: tuple[InvoicePayment, ...]  # present only when the event or call includes them

    @property
    def payment_intent_id(self) -> str | None:
        return next((p.payment_intent_id for p in self.payments if p.payment_intent_id), None)


@dataclass(frozen=True)
class Charge:
    id: str
    payment_intent_id: str | None
    amount_refunded: Money
    refunded: bool  # refunded in full


@dataclass(frozen=True)
class Dispute:
    id: str
    charge_id: str | None
    payment_intent_id: str | None
    amount: Money  # the disputed amount (usually the charge's, sometimes a part of it)
    status: str  # Stripe's word: needs_response, under_review, won, lost, warning_closed, ...


@dataclass(frozen=True)
class Refund:
    id: str
    status: str


@dataclass(frozen=True)
class PortalSession:
    url: str  # a credential: never log it


StripeObject = CheckoutSession | Invoice | Subscription | Charge | Dispute


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: int  # Stripe's clock, whole seconds
    livemode: bool
    object_id: str  # `data.object.id`, "" when it has none
    object: StripeObject | None  # None for an object kind we do not use
