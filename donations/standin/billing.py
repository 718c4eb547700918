"""Customers, subscriptions over time (renewal, failed renewal, cancellation), the billing
portal, refunds and disputes."""

from __future__ import annotations

import copy
from typing import Any

from donations.standin import changes, objects
from donations.standin.params import (
    Params,
    StripeError,
    boolean,
    email,
    integer,
    merge_metadata,
    metadata,
    missing,
    no_such,
    reject_unknown,
    string,
    url,
)
from donations.standin.payments import invoice_charge, invoice_settle
from donations.standin.store import Store, new_id

Obj = dict[str, Any]
LIVE = ("active", "past_due", "trialing", "unpaid")


# --- customers --------------------------------------------------------------------------------
CUSTOMER_PARAMS = {
    "address",
    "description",
    "email",
    "expand",
    "metadata",
    "name",
    "phone",
    "preferred_locales",
    "shipping",
    "tax_exempt",
    "invoice_settings",
}


def customer_create(store: Store, params: Params) -> Obj:
    reject_unknown(params, CUSTOMER_PARAMS)
    cus = objects.customer(
        email=email(params, "email", "email"),
        name=string(params, "name", "name"),
        metadata=metadata(params, "metadata", "metadata") or {},
        now=store.now(),
    )
    cus["description"] = string(params, "description", "description")
    store.add(cus)
    store.emit("customer.created", cus)
    return cus


def customer_update(store: Store, customer_id: str, params: Params) -> Obj:
    reject_unknown(params, CUSTOMER_PARAMS)
    cus = store.get(customer_id, "customer")
    previous: Obj = {}
    for name in ("email", "name", "description", "phone"):
        if name in params and cus.get(name) != (params[name] or None):
            previous[name] = cus.get(name)
            cus[name] = params[name] or None
    new_metadata = merge_metadata(cus["metadata"], metadata(params, "metadata", "metadata"))
    if new_metadata != cus["metadata"]:
        previous["metadata"] = cus["metadata"]
        cus["metadata"] = new_metadata
    if previous:
        store.emit("customer.updated", cus, previous)
    return cus


def customer_delete(store: Store, customer_id: str) -> Obj:
    cus = store.get(customer_id, "customer")
    for sub in store.find("subscription", customer=customer_id):
        if sub["status"] in LIVE:
            _end(store, sub, reason="cancellation_requested")
    cus["deleted"] = True
    store.emit("customer.deleted", {k: v for k, v in cus.items() if k != "deleted"})
    return {"id": customer_id, "object": "customer", "deleted": True}


# --- subscriptions ----------------------------------------------------------------------------
SUBSCRIPTION_PARAMS = {
    "cancel_at",
    "cancel_at_period_end",
    "cancellation_details",
    "default_payment_method",
    "description",
    "expand",
    "items",
    "metadata",
    "pause_collection",
    "proration_behavior",
}


def subscription_update(store: Store, sub_id: str, params: Params) -> Obj:
    reject_unknown(params, SUBSCRIPTION_PARAMS)
    sub = store.get(sub_id, "subscription")
    if sub["status"] in ("canceled", "incomplete_expired") and set(params) - {
        "metadata",
        "cancellation_details",
        "expand",
    }:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    previous: Obj = {}
    at_period_end = boolean(params, "cancel_at_period_end", "cancel_at_period_end")
    if at_period_end is not None and at_period_end != sub["cancel_at_period_end"]:
        previous.update(
            cancel_at_period_end=sub["cancel_at_period_end"], cancel_at=sub["cancel_at"]
        )
        end = sub["items"]["data"][0]["current_period_end"]
        sub.update(
            cancel_at_period_end=at_period_end,
            cancel_at=end if at_period_end else None,
            canceled_at=store.now() if at_period_end else None,
        )
    if "cancel_at" in params:
        cancel_at = integer(params, "cancel_at", "cancel_at", required=False)
        if cancel_at != sub["cancel_at"]:
            previous.setdefault("cancel_at", sub["cancel_at"])
            sub["cancel_at"] = cancel_at
    if "description" in params and sub["description"] != (params["description"] or None):
        previous["description"] = sub["description"]
        sub["description"] = params["description"] or None
    details = params.get("cancellation_details")
    if isinstance(details, dict):
        reject_unknown(details, {"comment", "feedback"})
        previous["cancellation_details"] = dict(sub["cancellation_details"])
        sub["cancellation_details"].update({k: v or None for k, v in details.items()})
    new_metadata = merge_metadata(sub["metadata"], metadata(params, "metadata", "metadata"))
    if new_metadata != sub["metadata"]:
        previous["metadata"] = sub["metadata"]
        sub["metadata"] = new_metadata
    interval_changed = changes.items_apply(store, sub, params, previous)
    changes.pause_apply(sub, params, previous)
    if previous:
        store.emit("customer.subscription.updated", sub, previous)
    if interval_changed:
        changes.new_period_invoice(store, sub)
    return sub


def subscription_cancel(store: Store, sub_id: str, params: Params) -> Obj:
    reject_unknown(params, {"cancellation_details", "expand", "invoice_now", "prorate"})
    sub = store.get(sub_id, "subscription")
    if sub["status"] in ("canceled", "incomplete_expired"):
        # What Stripe answers (stripe/stripe-go#1887): a canceled subscription is "gone".
        raise no_such("subscription", sub_id)
    details = params.get("cancellation_details")
    if isinstance(details, dict):
        sub["cancellation_details"].update({k: v or None for k, v in details.items()})
    return _end(store, sub, reason="cancellation_requested")


def _end(store: Store, sub: Obj, *, reason: str) -> Obj:
    now = store.now()
    sub.update(status="canceled", canceled_at=sub["canceled_at"] or now, ended_at=now)
    sub["cancellation_details"]["reason"] = reason
    store.emit("customer.subscription.deleted", sub)
    return sub


def _next_period(store: Store, sub: Obj) -> Obj:
    previous_items = copy.deepcopy(sub["items"])
    for item in sub["items"]["data"]:
        recurring = item["price"]["recurring"]
        start = item["current_period_end"]
        item.update(
            current_period_start=start,
            current_period_end=objects.period_end(
                start, recurring["interval"], recurring["interval_count"]
            ),
        )
    return previous_items


def subscription_renew(store: Store, sub_id: str, *, succeeded: bool = True) -> Obj:
    """The period ends: Stripe bills the next one (or ends a subscription set to cancel)."""
    sub = store.get(sub_id, "subscription")
    if sub["status"] not in LIVE:
        raise StripeError(f"Subscription {sub_id} is {sub['status']}; it cannot renew.")
    if sub["cancel_at_period_end"]:
        _end(store, sub, reason="cancellation_requested")
        return store.objects[str(sub["latest_invoice"])]
    previous_items = _next_period(store, sub)
    if sub.get("pause_collection"):
        store.emit("customer.subscription.updated", sub, {"items": previous_items})
        return changes.paused_renewal(store, sub)
    email = store.private.get(sub_id, {}).get("email")
    inv = store.add(
        objects.invoice(sub=sub, billing_reason="subscription_cycle", email=email, now=store.now())
    )
    previous_latest = sub["latest_invoice"]
    sub["latest_invoice"] = inv["id"]
    store.emit(
        "customer.subscription.updated",
        sub,
        {"items": previous_items, "latest_invoice": previous_latest},
    )
    invoice_charge(
        store,
        sub=sub,
        inv=inv,
        email=email,
        delayed=False,
        outcome="paid" if succeeded else "failed",
    )
    if not succeeded and sub["status"] != "past_due":
        previous_status = sub["status"]
        sub["status"] = "past_due"
        store.emit("customer.subscription.updated", sub, {"status": previous_status})
    return inv


def subscription_recover(store: Store, sub_id: str) -> Obj:
    """A new payment method pays the open invoice of a past_due subscription."""
    sub = store.get(sub_id, "subscription")
    if sub["status"] != "past_due":
        return sub
    inv = store.objects[str(sub["latest_invoice"])]
    if inv["status"] == "open":
        pi = store.objects[store.private[inv["id"]]["payment_intent"]]
        ch = store.objects[pi["latest_charge"]]
        pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)
        ch.update(
            status="succeeded", paid=True, captured=True, failure_code=None, failure_message=None
        )
        invoice_settle(store, inv=inv, outcome="paid")
    sub["status"] = "active"
    store.emit("customer.subscription.updated", sub, {"status": "past_due"})
    return sub


# --- billing portal ---------------------------------------------------------------------------
def portal_session_create(store: Store, params: Params, base_url: str) -> Obj:
    reject_unknown(
        params,
        {
            "configuration",
            "customer",
            "expand",
            "flow_data",
            "locale",
            "on_behalf_of",
            "return_url",
        },
    )
    customer_id = string(params, "customer", "customer", required=True)
    store.get(customer_id, "customer", "customer")
    bps_id = new_id("bps")
    return store.add(
        objects.shape(
            "billing_portal.session",
            id=bps_id,
            customer=customer_id,
            created=store.now(),
            return_url=url(params, "return_url", "return_url"),
            url=f"{base_url}/portal/{bps_id}",
            locale=string(params, "locale", "locale"),
        )
    )


# --- refunds and disputes ---------------------------------------------------------------------
def refund_create(store: Store, params: Params) -> Obj:
    reject_unknown(
        params,
        {
            "amount",
            "charge",
            "expand",
            "metadata",
            "payment_intent",
            "reason",
            "instructions_email",
            "refund_application_fee",
        },
    )
    if "charge" in params:
        ch = store.get(str(params["charge"]), "charge", "charge")
    elif "payment_intent" in params:
        pi = store.get(str(params["payment_intent"]), "payment_intent", "payment_intent")
        if not pi.get("latest_charge"):
            raise StripeError(
                f"PaymentIntent {pi['id']} has no charge to refund.", param="payment_intent"
            )
        ch = store.objects[pi["latest_charge"]]
    else:
        raise missing("charge")
    if ch["status"] != "succeeded":
        raise StripeError(
            f"Charge {ch['id']} has not succeeded; it cannot be refunded.", param="charge"
        )
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining <= 0:
        raise StripeError(
            f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = integer(params, "amount", "amount", required=False) or remaining
    if amount > remaining:
        raise StripeError(
            f"Refund amount ({objects.format_amount(amount, ch['currency'])}) is greater than "
            f"unrefunded amount on charge ({objects.format_amount(remaining, ch['currency'])})",
            param="amount",
        )
    re = store.add(
        objects.refund(
            ch=ch,
            amount=amount,
            reason=string(params, "reason", "reason"),
            metadata=metadata(params, "metadata", "metadata") or {},
            now=store.now(),
        )
    )
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] == ch["amount"]
    ch["refunds"]["data"].insert(0, re)
    store.emit("refund.created", re)
    store.emit("charge.refunded", ch, {"amount_refunded": ch["amount_refunded"] - amount})
    return re


def charge_dispute(store: Store, charge_id: str, *, reason: str = "fraudulent") -> Obj:
    ch = store.get(charge_id, "charge")
    if ch["status"] != "succeeded":
        raise StripeError(f"Charge {charge_id} has not succeeded; it cannot be disputed.")
    dp = store.add(objects.dispute(ch=ch, reason=reason, now=store.now()))
    ch["disputed"] = True
    store.emit("charge.dispute.created", dp)
    return dp


DISPUTE_CLOSED = ("won", "lost", "warning_closed", "prevented")


def dispute_close(store: Store, dispute_id: str, *, status: str) -> Obj:
    """The bank decides (Stripe's `charge.dispute.closed`): `won` or `lost`."""
    dp = store.get(dispute_id, "dispute")
    if status not in {"won", "lost"}:
        raise StripeError(f"A dispute closes as won or lost, not {status!r}.", param="status")
    if dp["status"] in DISPUTE_CLOSED:
        raise StripeError(f"Dispute {dispute_id} is already closed ({dp['status']}).")
    dp["status"] = status
    dp["is_charge_refundable"] = False
    store.emit("charge.dispute.closed", dp)
    return dp


def charge_open_dispute(store: Store, charge_id: str) -> Obj | None:
    """The dispute of a charge that the bank has not decided yet, if any."""
    open_ = [
        dp for dp in store.find("dispute", charge=charge_id) if dp["status"] not in DISPUTE_CLOSED
    ]
    return open_[0] if open_ else None
