"""Stripe objects built from Stripe's own example shapes (`shapes.json`, trimmed from the
OpenAPI fixtures for the pinned API version), so every field a client may read is present."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from donations.standin.store import new_id

SHAPES = Path(__file__).with_name("shapes.json")
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
INTERVAL_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}

Obj = dict[str, Any]


@cache
def _shapes() -> dict[str, Obj]:
    loaded: dict[str, Obj] = json.loads(SHAPES.read_text())
    return loaded


def shape(kind: str, **fields: Any) -> Obj:
    obj = copy.deepcopy(_shapes()[kind])
    obj.update(fields)
    return obj


def stripe_list(data: list[Obj], url: str) -> Obj:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def format_amount(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def period_end(start: int, interval: str, count: int = 1) -> int:
    return start + INTERVAL_SECONDS[interval] * count


def product(name: str, now: int) -> Obj:
    return shape("product", id=new_id("prod", 14), name=name, created=now, updated=now)


def price(
    *, product_id: str, currency: str, unit_amount: int, recurring: Obj | None, now: int
) -> Obj:
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    return shape(
        "price",
        id=new_id("price"),
        product=product_id,
        currency=currency,
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
        recurring=recurring,
        type="recurring" if recurring else "one_time",
        created=now,
        active=False,
    )


def customer(*, email: str | None, name: str | None, metadata: dict[str, str], now: int) -> Obj:
    cus_id = new_id("cus", 14)
    return shape(
        "customer",
        id=cus_id,
        email=email,
        name=name,
        metadata=metadata,
        created=now,
        invoice_prefix=cus_id[4:12].upper(),
    )


def payment_method(*, customer_id: str | None, email: str | None, delayed: bool, now: int) -> Obj:
    pm = shape("payment_method", id=new_id("pm"), customer=customer_id, created=now)
    pm["billing_details"]["email"] = email
    if delayed:
        pm["type"] = "sepa_debit"
        del pm["card"]
        pm["sepa_debit"] = {
            "bank_code": "37040044",
            "branch_code": None,
            "country": "DE",
            "fingerprint": "standinSepa0001",
            "generated_from": None,
            "last4": "3000",
        }
    return pm


def payment_intent(
    *,
    amount: int,
    currency: str,
    customer_id: str | None,
    pm: Obj,
    metadata: dict[str, str],
    now: int,
) -> Obj:
    pi_id = new_id("pi")
    return shape(
        "payment_intent",
        id=pi_id,
        amount=amount,
        currency=currency,
        customer=customer_id,
        metadata=metadata,
        created=now,
        client_secret=f"{pi_id}_secret_{new_id('s')[2:]}",
        payment_method=pm["id"],
        payment_method_types=[pm["type"]],
        status="processing",
        amount_received=0,
    )


def charge(*, pi: Obj, pm: Obj, email: str | None, now: int) -> Obj:
    ch = shape(
        "charge",
        id=new_id("ch"),
        amount=pi["amount"],
        amount_captured=pi["amount"],
        currency=pi["currency"],
        customer=pi["customer"],
        payment_intent=pi["id"],
        payment_method=pm["id"],
        created=now,
        metadata=dict(pi["metadata"]),
        status="pending",
        paid=False,
        receipt_email=email,
    )
    ch["billing_details"]["email"] = email
    if pm["type"] != "card":
        ch["payment_method_details"] = {"type": pm["type"], pm["type"]: dict(pm[pm["type"]])}
    ch["refunds"]["url"] = f"/v1/charges/{ch['id']}/refunds"
    return ch


def subscription_item(*, sub_id: str, price_obj: Obj, quantity: int, start: int) -> Obj:
    recurring = price_obj["recurring"]
    plan = {
        "active": True,
        "amount": price_obj["unit_amount"],
        "amount_decimal": str(price_obj["unit_amount"]),
        "billing_scheme": "per_unit",
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "id": price_obj["id"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "object": "plan",
        "product": price_obj["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }
    return shape(
        "subscription_item",
        id=new_id("si", 14),
        subscription=sub_id,
        price=price_obj,
        plan=plan,
        quantity=quantity,
        created=start,
        current_period_start=start,
        current_period_end=period_end(start, recurring["interval"], recurring["interval_count"]),
    )


def subscription(
    *,
    customer_id: str,
    items: list[tuple[Obj, int]],
    metadata: dict[str, str],
    description: str | None,
    pm_id: str | None,
    now: int,
) -> Obj:
    sub_id = new_id("sub")
    sub = shape(
        "subscription",
        id=sub_id,
        customer=customer_id,
        metadata=metadata,
        status="active",
        created=now,
        start_date=now,
        billing_cycle_anchor=now,
        currency=items[0][0]["currency"],
        description=description,
        default_payment_method=pm_id,
    )
    sub["items"] = {
        "object": "list",
        "has_more": False,
        "url": f"/v1/subscription_items?subscription={sub_id}",
        "data": [
            subscription_item(sub_id=sub_id, price_obj=p, quantity=q, start=now) for p, q in items
        ],
    }
    return sub


def invoice(*, sub: Obj, billing_reason: str, email: str | None, now: int) -> Obj:
    """An open invoice for one period of `sub` (its items' current period)."""
    in_id = new_id("in")
    lines = []
    for item in sub["items"]["data"]:
        amount = item["price"]["unit_amount"] * item["quantity"]
        line = shape(
            "invoice_line_item",
            id=new_id("il"),
            invoice=in_id,
            amount=amount,
            currency=item["price"]["currency"],
            quantity=item["quantity"],
            subtotal=amount,
            description=f"{item['quantity']} x {item['price']['product']}",
            metadata=dict(sub["metadata"]),
            period={"start": item["current_period_start"], "end": item["current_period_end"]},
            pricing={
                "type": "price_details",
                "unit_amount_decimal": str(item["price"]["unit_amount"]),
                "price_details": {
                    "price": item["price"]["id"],
                    "product": item["price"]["product"],
                },
            },
            parent={
                "type": "subscription_item_details",
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": sub["id"],
                    "subscription_item": item["id"],
                },
            },
        )
        lines.append(line)
    total = sum(line["amount"] for line in lines)
    first = sub["items"]["data"][0]
    number = f"{sub['customer'][4:12].upper()}-{now % 10000:04d}"
    inv = shape(
        "invoice",
        id=in_id,
        customer=sub["customer"],
        customer_email=email,
        currency=sub["currency"],
        billing_reason=billing_reason,
        created=now,
        effective_at=now,
        amount_due=total,
        amount_paid=0,
        amount_remaining=total,
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        status="open",
        number=number,
        attempted=True,
        attempt_count=1,
        period_start=first["current_period_start"],
        period_end=first["current_period_start"],
        auto_advance=True,
        lines=stripe_list(lines, f"/v1/invoices/{in_id}/lines"),
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
        },
        status_transitions={
            "finalized_at": now,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
    )
    return inv


def invoice_payment(*, inv: Obj, pi: Obj, now: int) -> Obj:
    return shape(
        "invoice_payment",
        id=new_id("inpay"),
        invoice=inv["id"],
        amount_requested=inv["amount_due"],
        amount_paid=None,
        currency=inv["currency"],
        created=now,
        livemode=False,
        status="open",
        payment={"type": "payment_intent", "payment_intent": pi["id"]},
        status_transitions={"canceled_at": None, "paid_at": None},
    )


def refund(*, ch: Obj, amount: int, reason: str | None, metadata: dict[str, str], now: int) -> Obj:
    return shape(
        "refund",
        id=new_id("re"),
        amount=amount,
        charge=ch["id"],
        currency=ch["currency"],
        payment_intent=ch["payment_intent"],
        created=now,
        reason=reason,
        metadata=metadata,
        status="succeeded",
        customer=ch["customer"],
    )


def dispute(*, ch: Obj, reason: str, now: int) -> Obj:
    return shape(
        "dispute",
        id=new_id("dp"),
        amount=ch["amount"],
        charge=ch["id"],
        currency=ch["currency"],
        payment_intent=ch["payment_intent"],
        created=now,
        reason=reason,
        status="needs_response",
        metadata={},
    )
