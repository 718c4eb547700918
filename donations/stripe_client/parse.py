"""The one parser: Stripe's JSON (a verified event, or an API answer) to `objects.py`.

Every field is checked once, here: its type, its range (amounts, timestamps and ids that our
columns and `datetime` can hold) and text PostgreSQL can store. Anything else raises
`MalformedObject` naming the field, which the webhook answers with 400. Nullable fields
(Stripe's `null`, or absent) become `None`; nothing is filled in with a value Stripe did not
send.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from donations.stripe_client import objects
from donations.stripe_client.errors import MalformedObject
from donations.stripe_client.money import MAX_MINOR, MINOR_UNITS, Money

MAX_ID = 255  # our columns for Stripe ids
STRIPE_ID = re.compile(r"[A-Za-z0-9_\-.]{1,255}")  # `cs_test_a1B2...`, `evt_...`, `price_...`
MAX_TEXT = 5000
MAX_TIMESTAMP = 253402300799  # 9999-12-31: what `datetime` holds


class Fields:
    """One JSON object and where it sits (`data.object.lines.data[0]`), read field by field."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise MalformedObject(extra={"field": path or "(event)", "problem": "not an object"})
        self.data: dict[str, Any] = data
        self.path = path

    def bad(self, name: str, problem: str) -> MalformedObject:
        return MalformedObject(
            extra={"field": f"{self.path}.{name}".lstrip("."), "problem": problem}
        )

    def text(self, name: str, *, max_length: int = MAX_TEXT) -> str | None:
        """A string field; `None` when null, absent or empty."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > max_length:
            raise self.bad(name, f"not a string of at most {max_length} characters")
        if "\x00" in value or not _encodable(value):
            raise self.bad(name, "not storable text")
        return value

    def required_text(self, name: str, *, max_length: int = MAX_TEXT) -> str:
        value = self.text(name, max_length=max_length)
        if value is None:
            raise self.bad(name, "missing")
        return value

    def id(self, name: str) -> str | None:
        """An id, or an expandable field (an id, or the expanded object with its `id`)."""
        value = self.data.get(name)
        if isinstance(value, dict):
            return Fields(value, f"{self.path}.{name}").id("id")
        found = self.text(name, max_length=MAX_ID)
        if found is not None and not STRIPE_ID.fullmatch(found):
            raise self.bad(name, "not a Stripe id")
        return found

    def required_id(self, name: str) -> str:
        found = self.id(name)
        if found is None:
            raise self.bad(name, "missing")
        return found

    def integer(self, name: str, *, high: int) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise self.bad(name, f"not an integer from 0 to {high}")
        return value

    def required_integer(self, name: str, *, high: int) -> int:
        value = self.integer(name, high=high)
        if value is None:
            raise self.bad(name, "missing")
        return value

    def timestamp(self, name: str) -> int | None:
        return self.integer(name, high=MAX_TIMESTAMP)

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            raise self.bad(name, "not a boolean")
        return value

    def child(self, name: str) -> Fields | None:
        value = self.data.get(name)
        return None if value is None else Fields(value, f"{self.path}.{name}")

    def required_child(self, name: str) -> Fields:
        return Fields(self.data.get(name), f"{self.path}.{name}")

    def items(self, name: str) -> list[Fields]:
        """The `data` of a Stripe list (absent or null: none)."""
        listing = self.child(name)
        if listing is None:
            return []
        data = listing.data.get("data")
        if not isinstance(data, list):
            raise listing.bad("data", "not a list")
        return [Fields(item, f"{listing.path}.data[{i}]") for i, item in enumerate(data)]

    def metadata(self, name: str = "metadata") -> dict[str, str]:
        found = self.child(name)
        if found is None:
            return {}
        return {key: found.required_text(key) for key in found.data if found.data[key] != ""}

    def currency(self, name: str = "currency") -> str:
        value = self.required_text(name, max_length=3)
        if value.lower() not in MINOR_UNITS:
            raise self.bad(name, "a currency we do not take")
        return value.lower()

    def money(self, name: str, currency: str) -> Money | None:
        minor = self.integer(name, high=MAX_MINOR)
        return None if minor is None else _money(minor, currency)

    def required_money(self, name: str, currency: str) -> Money:
        return _money(self.required_integer(name, high=MAX_MINOR), currency)


def _money(minor: int, currency: str) -> Money:
    return Money((Decimal(minor) / MINOR_UNITS[currency]).quantize(Decimal("0.01")), currency)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape
        return False
    return True


def price(fields: Fields) -> objects.Price:
    recurring = fields.child("recurring")
    unit_amount = fields.money("unit_amount", fields.currency())
    return objects.Price(
        id=fields.required_id("id"),
        product_id=fields.id("product"),
        unit_amount=unit_amount,
        recurring=None
        if recurring is None
        else objects.Recurring(
            interval=recurring.required_text("interval", max_length=20),
            interval_count=recurring.required_integer("interval_count", high=10_000),
        ),
    )


def subscription_item(fields: Fields) -> objects.SubscriptionItem:
    return objects.SubscriptionItem(
        id=fields.required_id("id"),
        price=price(fields.required_child("price")),
        current_period_end=fields.timestamp("current_period_end"),
    )


def subscription(fields: Fields) -> objects.Subscription:
    items = tuple(subscription_item(item) for item in fields.items("items"))
    return objects.Subscription(
        id=fields.required_id("id"),
        status=fields.required_text("status", max_length=40),
        customer_id=fields.id("customer"),
        start_date=fields.timestamp("start_date"),
        prices=tuple(item.price for item in items),
        items=items,
        paused=fields.child("pause_collection") is not None,
    )


def checkout_session(fields: Fields) -> objects.CheckoutSession:
    details = fields.child("customer_details")
    currency = fields.currency() if fields.text("currency", max_length=3) else None
    total = fields.money("amount_total", currency) if currency else None
    return objects.CheckoutSession(
        id=fields.required_id("id"),
        url=fields.text("url"),
        mode=fields.required_text("mode", max_length=40),
        payment_status=fields.required_text("payment_status", max_length=40),
        amount_total=total,
        email=(details.text("email", max_length=254) if details else None)
        or fields.text("customer_email", max_length=254),
        name=details.text("name", max_length=MAX_TEXT) if details else None,
        customer_id=fields.id("customer"),
        payment_intent_id=fields.id("payment_intent"),
        invoice_id=fields.id("invoice"),
        subscription_id=fields.id("subscription"),
        metadata=fields.metadata(),
    )


def invoice_payment(fields: Fields) -> objects.InvoicePayment:
    payment = fields.child("payment")
    return objects.InvoicePayment(
        status=fields.required_text("status", max_length=40),
        payment_intent_id=payment.id("payment_intent") if payment else None,
    )


def _line_price_id(line: Fields) -> str | None:
    pricing = line.child("pricing")
    details = pricing.child("price_details") if pricing else None
    return details.id("price") if details else None


def invoice(fields: Fields) -> objects.Invoice:
    currency = fields.currency()
    parent = fields.child("parent")
    details = parent.child("subscription_details") if parent else None
    transitions = fields.child("status_transitions")
    return objects.Invoice(
        id=fields.required_id("id"),
        customer_id=fields.id("customer"),
        email=fields.text("customer_email", max_length=254),
        name=fields.text("customer_name"),
        amount_paid=fields.required_money("amount_paid", currency),
        amount_due=fields.required_money("amount_due", currency),
        billing_reason=fields.text("billing_reason", max_length=40),
        paid_at=transitions.timestamp("paid_at") if transitions else None,
        subscription_id=details.id("subscription") if details else None,
        subscription_metadata=details.metadata() if details else {},
        price_ids=tuple(p for line in fields.items("lines") if (p := _line_price_id(line))),
        payments=tuple(invoice_payment(p) for p in fields.items("payments")),
    )


def charge(fields: Fields) -> objects.Charge:
    return objects.Charge(
        id=fields.required_id("id"),
        payment_intent_id=fields.id("payment_intent"),
        amount_refunded=fields.required_money("amount_refunded", fields.currency()),
        refunded=fields.boolean("refunded"),
    )


def dispute(fields: Fields) -> objects.Dispute:
    return objects.Dispute(
        id=fields.required_id("id"),
        charge_id=fields.id("charge"),
        payment_intent_id=fields.id("payment_intent"),
        amount=fields.required_money("amount", fields.currency()),
        status=fields.required_text("status", max_length=40),
    )


def refund(fields: Fields) -> objects.Refund:
    return objects.Refund(
        id=fields.required_id("id"),
        status=fields.required_text("status", max_length=40),
    )


def portal_session(fields: Fields) -> objects.PortalSession:
    return objects.PortalSession(url=fields.required_text("url"))


# Stripe's `object` name -> its parser, for the objects events bring us.
OBJECTS: dict[str, Callable[[Fields], objects.StripeObject]] = {
    "checkout.session": checkout_session,
    "invoice": invoice,
    "subscription": subscription,
    "charge": charge,
    "dispute": dispute,
}


def event(data: object) -> objects.Event:
    """A verified event's JSON to an `Event`; `MalformedObject` (with the event's id when it
    could be read) for anything we cannot use."""
    envelope = Fields(data, "")
    raw_id = envelope.data.get("id")
    try:
        return _event(envelope)
    except MalformedObject as error:
        if isinstance(raw_id, str) and STRIPE_ID.fullmatch(raw_id):
            error.extra["stripe_event"] = raw_id
        raise


def _event(envelope: Fields) -> objects.Event:
    event_id = envelope.required_id("id")
    event_type = envelope.required_text("type", max_length=100)
    created = envelope.required_integer("created", high=MAX_TIMESTAMP)
    livemode = envelope.boolean("livemode")
    obj = envelope.required_child("data").required_child("object")
    kind = obj.data.get("object")
    parser = OBJECTS.get(kind) if isinstance(kind, str) else None
    return objects.Event(
        id=event_id,
        type=event_type,
        created=created,
        livemode=livemode,
        object_id=(obj.id("id") or "") if parser else _loose_id(obj),
        object=parser(obj) if parser else None,
    )


def _loose_id(obj: Fields) -> str:
    """The id of an object we do not use, kept on the event row if it is a plain one."""
    value = obj.data.get("id")
    return value if isinstance(value, str) and STRIPE_ID.fullmatch(value) else ""
