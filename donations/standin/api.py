"""The REST routes under /v1/: (method, path pattern) -> handler, and Stripe's list shape."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from donations.standin import billing, checkout, objects
from donations.standin.params import Params, StripeError, integer, reject_unknown
from donations.standin.store import Store

Obj = dict[str, Any]
Handler = Callable[[Store, Params, str, str], Obj]  # store, params, path id, base url

# Collections a plain GET /v1/<collection>/<id> can read, with their object type.
RETRIEVE = {
    "checkout/sessions": "checkout.session",
    "customers": "customer",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "invoice_payments": "invoice_payment",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "disputes": "dispute",
    "events": "event",
    "prices": "price",
    "products": "product",
    "payment_methods": "payment_method",
    "subscription_items": "subscription_item",
}
# Collections with a list endpoint, and the filters each accepts.
LISTS = {
    "checkout/sessions": ("checkout.session", ("customer", "payment_intent", "subscription")),
    "customers": ("customer", ("email",)),
    "subscriptions": ("subscription", ("customer", "price", "status")),
    "invoices": ("invoice", ("customer", "status", "subscription")),
    "invoice_payments": ("invoice_payment", ("invoice", "payment", "status")),
    "charges": ("charge", ("customer", "payment_intent")),
    "refunds": ("refund", ("charge", "payment_intent")),
    "payment_intents": ("payment_intent", ("customer",)),
    "events": ("event", ("type",)),
}
_LIST_PARAMS = {"limit", "starting_after", "ending_before", "expand", "created"}


def _matches(obj: Obj, name: str, value: Any) -> bool:
    if name == "subscription" and obj["object"] == "invoice":
        parent = obj.get("parent") or {}
        return (parent.get("subscription_details") or {}).get("subscription") == value
    if name == "price" and obj["object"] == "subscription":
        return any(item["price"]["id"] == value for item in obj["items"]["data"])
    if isinstance(value, dict):  # `payment[payment_intent]=pi_...`
        nested = obj.get(name) or {}
        return all(nested.get(key) == wanted for key, wanted in value.items())
    if name == "type" and isinstance(value, str) and value.endswith("*"):
        return str(obj["type"]).startswith(value[:-1])
    return obj.get(name) == value


def list_objects(store: Store, collection: str, params: Params) -> Obj:
    kind, filters = LISTS[collection]
    reject_unknown(params, _LIST_PARAMS | set(filters))
    limit = integer(params, "limit", "limit", required=False) or 10
    if not 1 <= limit <= 100:
        raise StripeError("Invalid limit: must be between 1 and 100.", param="limit")
    found = store.find(kind)
    for name in filters:
        value = params.get(name)
        if name == "status" and kind == "subscription":
            if value == "all":
                continue
            if value is None:  # Stripe lists only subscriptions that are not canceled
                found = [obj for obj in found if obj["status"] != "canceled"]
                continue
        if value is not None:
            found = [obj for obj in found if _matches(obj, name, value)]
    if kind == "event":  # several events share a second; keep emission order, newest first
        order = {event["id"]: i for i, event in enumerate(store.events)}
        found.sort(key=lambda event: order.get(event["id"], -1), reverse=True)
    if "starting_after" in params:
        ids = [obj["id"] for obj in found]
        if params["starting_after"] not in ids:
            raise StripeError("Invalid starting_after id.", param="starting_after")
        found = found[ids.index(params["starting_after"]) + 1 :]
    page = objects.stripe_list(found[:limit], f"/v1/{collection}")
    page["has_more"] = len(found) > limit
    return page


def _line_items(store: Store, params: Params, session_id: str, base_url: str) -> Obj:
    session = store.get(session_id, "checkout.session")
    data = []
    for price_id, quantity in store.private[session_id]["items"]:
        price = store.objects[price_id]
        amount = price["unit_amount"] * quantity
        data.append(
            {
                "id": f"li_{price_id[6:]}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "quantity": quantity,
                "price": price,
                "description": store.objects[price["product"]]["name"],
                "metadata": {},
            }
        )
    return objects.stripe_list(data, f"/v1/checkout/sessions/{session['id']}/line_items")


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (
        "POST",
        re.compile(r"/v1/checkout/sessions"),
        lambda s, p, _, base: checkout.session_create(s, p, base),
    ),
    (
        "POST",
        re.compile(r"/v1/checkout/sessions/([^/]+)/expire"),
        lambda s, p, oid, _: checkout.session_expire(s, oid),
    ),
    ("GET", re.compile(r"/v1/checkout/sessions/([^/]+)/line_items"), _line_items),
    ("POST", re.compile(r"/v1/customers"), lambda s, p, _, __: billing.customer_create(s, p)),
    (
        "POST",
        re.compile(r"/v1/customers/([^/]+)"),
        lambda s, p, oid, _: billing.customer_update(s, oid, p),
    ),
    (
        "DELETE",
        re.compile(r"/v1/customers/([^/]+)"),
        lambda s, p, oid, _: billing.customer_delete(s, oid),
    ),
    (
        "POST",
        re.compile(r"/v1/subscriptions/([^/]+)"),
        lambda s, p, oid, _: billing.subscription_update(s, oid, p),
    ),
    (
        "DELETE",
        re.compile(r"/v1/subscriptions/([^/]+)"),
        lambda s, p, oid, _: billing.subscription_cancel(s, oid, p),
    ),
    (
        "POST",
        re.compile(r"/v1/billing_portal/sessions"),
        lambda s, p, _, base: billing.portal_session_create(s, p, base),
    ),
    ("POST", re.compile(r"/v1/refunds"), lambda s, p, _, __: billing.refund_create(s, p)),
]


def expand(store: Store, obj: Obj, paths: Any) -> Obj:
    """Stripe's `expand[]`: replace id strings at dotted paths with the objects they name."""
    if not paths:
        return obj
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise StripeError("Invalid array: expand must be a list of strings", param="expand")
    result = copy.deepcopy(obj)
    for path in paths:
        _expand(store, result, path.split("."), path)
    return result


def _expand(store: Store, node: Any, parts: list[str], path: str) -> None:
    if not parts or not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if node.get("object") == "list" and head == "data":
        for item in node["data"]:
            _expand(store, item, rest, path)
        return
    if head == "payments" and node.get("object") == "invoice":  # includable, not expandable
        payments = sorted(
            store.find("invoice_payment", invoice=node["id"]), key=lambda p: p["created"]
        )
        url = f"/v1/invoice_payments?invoice={node['id']}"
        node["payments"] = objects.stripe_list(copy.deepcopy(payments), url)
    if head not in node:
        raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
    value = node[head]
    if isinstance(value, str) and value in store.objects:
        value = node[head] = copy.deepcopy(store.objects[value])
    _expand(store, value, rest, path)


def dispatch(store: Store, method: str, path: str, params: Params, base_url: str) -> Obj:
    """Run one API call under the store's lock; raises StripeError for Stripe's errors.

    A refused call leaves nothing behind (a session's prices, say, made before a later
    parameter was found invalid), as on Stripe."""
    before = set(store.objects)
    try:
        return expand(store, _dispatch(store, method, path, params, base_url), params.get("expand"))
    except StripeError:
        for object_id in set(store.objects) - before:
            del store.objects[object_id]
            store.private.pop(object_id, None)
        raise


def _dispatch(store: Store, method: str, path: str, params: Params, base_url: str) -> Obj:
    path = path.rstrip("/")
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler(store, params, match.group(1) if match.groups() else "", base_url)
    if method == "GET":
        for collection in sorted(RETRIEVE, key=len, reverse=True):
            prefix = f"/v1/{collection}"
            if path == prefix and collection in LISTS:
                return list_objects(store, collection, params)
            if path.startswith(prefix + "/") and "/" not in path[len(prefix) + 1 :]:
                reject_unknown(params, {"expand"})
                object_id = path[len(prefix) + 1 :]
                found = store.objects.get(object_id, {})
                if found.get("deleted"):  # Stripe still answers for a deleted customer
                    return {"id": object_id, "object": found["object"], "deleted": True}
                return store.get(object_id, RETRIEVE[collection])
    raise StripeError(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
        status=404,
    )
