"""Changes to a live subscription: a new price for an item (`items[n][price_data]` or
`items[n][price]`) with `proration_behavior`, and `pause_collection`.

As on Stripe: an item's inline price needs a `product` id (not `product_data`), in the
subscription's currency, and recurring; a change of interval restarts the period at once and
invoices the new price immediately. The stand-in does not model proration credits, so a price
change must say `proration_behavior=none` (it answers 400 otherwise, naming the limitation).
A renewal that falls while collection is paused is voided: nothing is charged.
"""

from __future__ import annotations

import copy
from typing import Any

from donations.standin import objects
from donations.standin.checkout import _price_from_data
from donations.standin.params import (
    Params,
    StripeError,
    choice,
    integer,
    no_such,
    reject_unknown,
    string,
)
from donations.standin.payments import invoice_charge
from donations.standin.store import Store

Obj = dict[str, Any]
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
PAUSE_BEHAVIORS = ("keep_as_draft", "mark_uncollectible", "void")


def _new_price(store: Store, sub: Obj, change: Obj, where: str) -> Obj:
    if "price" in change:
        price = store.get(str(change["price"]), "price", f"{where}[price]")
    else:
        data = change.get("price_data")
        if isinstance(data, dict) and "product_data" in data:
            raise StripeError(
                f"Received unknown parameter: {where}[price_data][product_data]",
                param=f"{where}[price_data][product_data]",
            )
        if isinstance(data, dict) and "product" not in data:
            raise StripeError(
                f"Missing required param: {where}[price_data][product].",
                param=f"{where}[price_data][product]",
                code="parameter_missing",
            )
        if isinstance(data, dict) and data.get("recurring") is None:
            raise StripeError(
                f"Missing required param: {where}[price_data][recurring].",
                param=f"{where}[price_data][recurring]",
                code="parameter_missing",
            )
        price = _price_from_data(store, data, f"{where}[price_data]", store.now())
    if price["recurring"] is None:
        raise StripeError("A subscription item needs a recurring price.", param=f"{where}[price]")
    if price["currency"] != sub["currency"]:
        raise StripeError(
            f"The price's currency ({price['currency']}) must match the subscription's "
            f"({sub['currency']}).",
            param=f"{where}[price_data][currency]",
        )
    return price


def _replace_item(store: Store, sub: Obj, index: int, change: Any) -> bool:
    """Give one item its new price; True when its interval changed."""
    where = f"items[{index}]"
    if not isinstance(change, dict):
        raise StripeError(f"Invalid object: {where}", param=where)
    reject_unknown(change, {"id", "price", "price_data", "quantity", "metadata"})
    item_id = string(change, "id", f"{where}[id]", required=True)
    item = next((i for i in sub["items"]["data"] if i["id"] == item_id), None)
    if item is None:
        raise no_such("subscription_item", item_id, f"{where}[id]")
    quantity = integer(change, "quantity", f"{where}[quantity]", required=False) or 1
    if "price" not in change and "price_data" not in change:
        item["quantity"] = quantity
        return False
    price = _new_price(store, sub, change, where)
    old = item["price"]["recurring"]
    new = price["recurring"]
    rebuilt = objects.subscription_item(
        sub_id=sub["id"], price_obj=price, quantity=quantity, start=item["current_period_start"]
    )
    rebuilt.update(
        id=item["id"],
        created=item["created"],
        current_period_start=item["current_period_start"],
        current_period_end=item["current_period_end"],
    )
    sub["items"]["data"][sub["items"]["data"].index(item)] = rebuilt
    return (old["interval"], old["interval_count"]) != (new["interval"], new["interval_count"])


def items_apply(store: Store, sub: Obj, params: Params, previous: Obj) -> bool:
    """`items` and `proration_behavior` of a subscription update; True when the interval
    changed (the caller invoices the new period once the update's event is out)."""
    proration = choice(params, "proration_behavior", "proration_behavior", PRORATION_BEHAVIORS)
    items = params.get("items")
    if items is None:
        return False
    if not isinstance(items, list):
        raise StripeError("Invalid array: items must be a list", param="items")
    if any(isinstance(c, dict) and ("price" in c or "price_data" in c) for c in items) and (
        proration != "none"
    ):
        raise StripeError(
            "The stand-in does not model proration credits: pass proration_behavior=none "
            "with a price change.",
            param="proration_behavior",
        )
    before = copy.deepcopy(sub["items"])
    interval_changed = False
    for index, change in enumerate(items):
        interval_changed = _replace_item(store, sub, index, change) or interval_changed
    if sub["items"] != before:
        previous["items"] = before
    if interval_changed:
        now = store.now()
        for item in sub["items"]["data"]:
            recurring = item["price"]["recurring"]
            item.update(
                current_period_start=now,
                current_period_end=objects.period_end(
                    now, recurring["interval"], recurring["interval_count"]
                ),
            )
        previous.setdefault("billing_cycle_anchor", sub["billing_cycle_anchor"])
        sub["billing_cycle_anchor"] = now
    return interval_changed


def pause_apply(sub: Obj, params: Params, previous: Obj) -> None:
    """`pause_collection[behavior]=...` pauses; `pause_collection=` (empty) resumes."""
    if "pause_collection" not in params:
        return
    raw = params["pause_collection"]
    if raw == "":
        new = None
    elif isinstance(raw, dict):
        reject_unknown(raw, {"behavior", "resumes_at"})
        behavior = choice(raw, "behavior", "pause_collection[behavior]", PAUSE_BEHAVIORS)
        if behavior is None:
            raise StripeError(
                "Missing required param: pause_collection[behavior].",
                param="pause_collection[behavior]",
                code="parameter_missing",
            )
        resumes = integer(raw, "resumes_at", "pause_collection[resumes_at]", required=False)
        new = {"behavior": behavior, "resumes_at": resumes}
    else:
        raise StripeError("Invalid object: pause_collection", param="pause_collection")
    if new != sub.get("pause_collection"):
        previous["pause_collection"] = sub.get("pause_collection")
        sub["pause_collection"] = new


def new_period_invoice(store: Store, sub: Obj) -> Obj:
    """Invoice the period a change of interval started, and charge it (`subscription_update`)."""
    email = store.private.get(sub["id"], {}).get("email")
    inv = store.add(
        objects.invoice(sub=sub, billing_reason="subscription_update", email=email, now=store.now())
    )
    previous_latest = sub["latest_invoice"]
    sub["latest_invoice"] = inv["id"]
    store.emit("customer.subscription.updated", sub, {"latest_invoice": previous_latest})
    return invoice_charge(store, sub=sub, inv=inv, email=email, delayed=False, outcome="paid")


def paused_renewal(store: Store, sub: Obj) -> Obj:
    """A renewal while collection is paused (behavior `void`): the invoice is voided."""
    email = store.private.get(sub["id"], {}).get("email")
    inv = store.add(
        objects.invoice(sub=sub, billing_reason="subscription_cycle", email=email, now=store.now())
    )
    inv.update(status="void", amount_remaining=0)
    sub["latest_invoice"] = inv["id"]
    store.emit("invoice.voided", inv)
    return inv
