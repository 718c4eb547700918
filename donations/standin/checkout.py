"""Checkout Sessions: creation validated as Stripe validates it, and the payment a reader
makes on the hosted page (card now, or a bank debit that settles later)."""

from __future__ import annotations

from typing import Any

from donations.standin import objects
from donations.standin.params import (
    Params,
    StripeError,
    boolean,
    choice,
    email,
    integer,
    metadata,
    missing,
    reject_unknown,
    string,
    url,
)
from donations.standin.store import Store, new_id

Obj = dict[str, Any]

SESSION_PARAMS = {
    "adaptive_pricing",
    "after_expiration",
    "allow_promotion_codes",
    "automatic_tax",
    "billing_address_collection",
    "branding_settings",
    "cancel_url",
    "client_reference_id",
    "consent_collection",
    "currency",
    "custom_fields",
    "custom_text",
    "customer",
    "customer_creation",
    "customer_email",
    "customer_update",
    "discounts",
    "expand",
    "expires_at",
    "invoice_creation",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "name_collection",
    "optional_items",
    "payment_intent_data",
    "payment_method_collection",
    "payment_method_configuration",
    "payment_method_options",
    "payment_method_types",
    "permissions",
    "phone_number_collection",
    "redirect_on_completion",
    "return_url",
    "saved_payment_method_options",
    "shipping_address_collection",
    "shipping_options",
    "submit_type",
    "subscription_data",
    "success_url",
    "tax_id_collection",
    "ui_mode",
    "wallet_options",
}
MINIMUM = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "chf": 50,
    "cad": 50,
    "aud": 50,
    "nzd": 50,
    "sek": 300,
    "nok": 300,
    "dkk": 250,
    "pln": 200,
    "czk": 1500,
    "huf": 17500,
    "jpy": 50,
    "mxn": 1000,
    "brl": 50,
    "inr": 50,
    "sgd": 50,
    "hkd": 400,
}
INTERVALS = ("day", "week", "month", "year")


def _line_item(store: Store, raw: Any, index: int, mode: str, now: int) -> tuple[Obj, int]:
    where = f"line_items[{index}]"
    if not isinstance(raw, dict):
        raise StripeError(f"Invalid object: {where}", param=where)
    reject_unknown(
        raw,
        {
            "price",
            "price_data",
            "quantity",
            "adjustable_quantity",
            "dynamic_tax_rates",
            "tax_rates",
        },
    )
    quantity = integer(raw, "quantity", f"{where}[quantity]")
    if quantity < 1:
        raise StripeError("Quantity must be at least 1.", param=f"{where}[quantity]")
    if "price" in raw:
        price_obj = store.get(str(raw["price"]), "price", f"{where}[price]")
    else:
        price_obj = _price_from_data(store, raw.get("price_data"), f"{where}[price_data]", now)
    if mode == "payment" and price_obj["recurring"] is not None:
        raise StripeError(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            param=f"{where}[price_data][recurring]",
        )
    return price_obj, quantity


def _price_from_data(store: Store, data: Any, where: str, now: int) -> Obj:
    if not isinstance(data, dict):
        raise missing(where)
    reject_unknown(
        data,
        {
            "currency",
            "product",
            "product_data",
            "recurring",
            "tax_behavior",
            "unit_amount",
            "unit_amount_decimal",
        },
    )
    currency = string(data, "currency", f"{where}[currency]", required=True)
    if currency != currency.lower() or len(currency) != 3 or not currency.isalpha():
        raise StripeError(f"Invalid currency: {currency}.", param=f"{where}[currency]")
    amount = integer(data, "unit_amount", f"{where}[unit_amount]")
    if amount < 0 or amount > 99_999_999:
        raise StripeError(
            "This value must be greater than or equal to 0 and less than or equal to 99999999.",
            param=f"{where}[unit_amount]",
        )
    recurring = data.get("recurring")
    if recurring is not None:
        if not isinstance(recurring, dict):
            raise StripeError(f"Invalid object: {where}[recurring]", param=f"{where}[recurring]")
        reject_unknown(recurring, {"interval", "interval_count"})
        interval = string(recurring, "interval", f"{where}[recurring][interval]", required=True)
        choice(recurring, "interval", f"{where}[recurring][interval]", INTERVALS)
        count = (
            integer(
                recurring, "interval_count", f"{where}[recurring][interval_count]", required=False
            )
            or 1
        )
        recurring = {"interval": interval, "interval_count": count}
    if "product" in data:
        product_obj = store.get(str(data["product"]), "product", f"{where}[product]")
    else:
        product_data = data.get("product_data")
        name = string(
            product_data if isinstance(product_data, dict) else {},
            "name",
            f"{where}[product_data][name]",
            required=True,
        )
        product_obj = store.add(objects.product(name, now))
    return store.add(
        objects.price(
            product_id=product_obj["id"],
            currency=currency,
            unit_amount=amount,
            recurring=recurring,
            now=now,
        )
    )


def session_create(store: Store, params: Params, base_url: str) -> Obj:
    reject_unknown(params, SESSION_PARAMS)
    mode, submit_type = _mode(store, params)
    items, currency, total = _items(store, params, mode)
    boolean(params, "allow_promotion_codes", "allow_promotion_codes")
    return store.add(_session(store, params, mode, submit_type, items, currency, total, base_url))


def _mode(store: Store, params: Params) -> tuple[str, str | None]:
    """`mode` and the parameters that must agree with it."""
    mode = string(params, "mode", "mode", required=True)
    choice(params, "mode", "mode", ("payment", "subscription", "setup"))
    if mode == "setup":
        raise StripeError("The stand-in does not implement `setup` mode.", param="mode")
    submit_type = choice(
        params, "submit_type", "submit_type", ("auto", "book", "donate", "pay", "subscribe")
    )
    if mode == "subscription" and submit_type in ("book", "pay"):
        raise StripeError(
            "`submit_type` can only be `auto`, `donate` or `subscribe` in `subscription` mode.",
            param="submit_type",
        )
    if params.get("customer") and params.get("customer_email"):
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer_id = string(params, "customer", "customer")
    if customer_id is not None:
        store.get(customer_id, "customer", "customer")
    for mode_only, allowed in (
        ("payment_intent_data", "payment"),
        ("subscription_data", "subscription"),
    ):
        if mode_only in params and mode != allowed:
            raise StripeError(f"You can not pass `{mode_only}` in `{mode}` mode.", param=mode_only)
    if "customer_creation" in params and mode != "payment":
        raise StripeError(
            "`customer_creation` can only be used in `payment` and `setup` mode.",
            param="customer_creation",
        )
    return mode, submit_type


def _items(store: Store, params: Params, mode: str) -> tuple[list[tuple[Obj, int]], str, int]:
    """The line items' prices and quantities, their one currency and the total."""
    now = store.now()
    raw_items = params.get("line_items")
    if not raw_items:
        raise missing("line_items")
    if not isinstance(raw_items, list):
        raise StripeError("Invalid array: line_items", param="line_items")
    items = [_line_item(store, raw, i, mode, now) for i, raw in enumerate(raw_items)]
    if mode == "subscription" and not any(p["recurring"] for p, _ in items):
        raise StripeError(
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            param="line_items",
        )
    currencies = {p["currency"] for p, _ in items}
    if len(currencies) > 1:
        raise StripeError("All line items must use the same currency.", param="line_items")
    currency = currencies.pop()
    total = sum(p["unit_amount"] * q for p, q in items)
    if total < MINIMUM.get(currency, 50):
        minimum = objects.format_amount(MINIMUM.get(currency, 50), currency)
        raise StripeError(
            f"The Checkout Session's total amount due must add up to at least {minimum}",
            param="line_items[0][price_data][unit_amount]",
        )
    return items, currency, total


def _session(
    store: Store,
    params: Params,
    mode: str,
    submit_type: str | None,
    items: list[tuple[Obj, int]],
    currency: str,
    total: int,
    base_url: str,
) -> Obj:
    now = store.now()
    sub_data = params.get("subscription_data") or {}
    pi_data = params.get("payment_intent_data") or {}
    if not isinstance(sub_data, dict) or not isinstance(pi_data, dict):
        raise StripeError("Invalid object", param="subscription_data")
    cs_id = new_id("cs")
    success_url = url(params, "success_url", "success_url")
    session = objects.shape(
        "checkout.session",
        id=cs_id,
        mode=mode,
        submit_type=submit_type,
        created=now,
        expires_at=now + 24 * 3600,
        amount_subtotal=total,
        amount_total=total,
        currency=currency,
        customer=string(params, "customer", "customer"),
        customer_email=email(params, "customer_email", "customer_email"),
        customer_creation=(params.get("customer_creation") or "if_required")
        if mode == "payment"
        else None,
        client_reference_id=string(params, "client_reference_id", "client_reference_id"),
        metadata=metadata(params, "metadata", "metadata") or {},
        success_url=success_url,
        cancel_url=url(params, "cancel_url", "cancel_url"),
        locale=string(params, "locale", "locale"),
        url=f"{base_url}/pay/{cs_id}",
        status="open",
        payment_status="unpaid",
        payment_method_types=["card", "sepa_debit"],
        invoice_creation={"enabled": False, "invoice_data": None} if mode == "payment" else None,
    )
    # Kept off the public object: what the pay step needs to build the payment.
    store.private[cs_id] = {
        "items": [(p["id"], q) for p, q in items],
        "subscription_metadata": metadata(sub_data, "metadata", "subscription_data[metadata]")
        or {},
        "subscription_description": string(
            sub_data, "description", "subscription_data[description]"
        ),
        "payment_intent_metadata": metadata(pi_data, "metadata", "payment_intent_data[metadata]")
        or {},
        "receipt_email": string(pi_data, "receipt_email", "payment_intent_data[receipt_email]"),
    }
    return session


def session_expire(store: Store, session_id: str) -> Obj:
    session = store.get(session_id, "checkout.session")
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
        )
    session.update(status="expired", url=None)
    store.emit("checkout.session.expired", session)
    return session
