"""Every call to Stripe, and the only module in the project that imports `stripe`.

The API version is pinned here once; every create has an idempotency key; every call has a
connect and read timeout and at most one retry, and the calls of a request someone waits on
share one time budget (`budget.py`); SDK errors become `StripeUnavailable` (network, 5xx, rate
limit: try again later) or `StripeRefused` (4xx: Stripe said no). Answers are parsed by
`parse.py` into our dataclasses; one we cannot read is a `StripeProblem`. The client is built
at call time, so `override_settings(STRIPE_API_BASE=...)` sends it to a local stand-in.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import stripe
import urllib3
from django.conf import settings

from donations.stripe_client import budget, parse
from donations.stripe_client.errors import (
    InvalidSignature,
    MalformedObject,
    StripeProblem,
    StripeRefused,
    StripeUnavailable,
)
from donations.stripe_client.money import to_minor
from donations.stripe_client.objects import (
    CheckoutSession,
    Event,
    PortalSession,
    Price,
    Recurring,
    Refund,
    Subscription,
)

API_VERSION = "2026-10-28.endive"  # the version stripe 16.x ships; shapes in tests/fixtures
WEBHOOK_TOLERANCE_SECONDS = 300  # as Stripe's SDK
ENDED_SUBSCRIPTION_STATUSES = ("canceled", "incomplete_expired")

logger = logging.getLogger(__name__)

T = TypeVar("T")
Parsed = TypeVar("Parsed")


def _client(timeouts: budget.Timeouts | None = None) -> stripe.StripeClient:
    """A client for one attempt (by default, the next attempt's timeouts where it is made).
    The SDK's own retries are off: `_call` retries, within the reader's budget (`budget.py`)."""
    timeouts = timeouts or budget.Attempts().timeouts()
    base: str = settings.STRIPE_API_BASE
    timeout = urllib3.Timeout(connect=timeouts.connect, read=timeouts.read, total=timeouts.total)
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        base_addresses={"api": base} if base else None,
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),  # type: ignore[arg-type]
    )


def _retryable(error: stripe.StripeError) -> bool:
    """As the SDK decides: a timeout or failed connection, a conflict, a 5xx, or what Stripe's
    `Stripe-Should-Retry` header says."""
    if isinstance(error, stripe.APIConnectionError):
        return bool(error.should_retry)
    advice = (error.headers or {}).get("stripe-should-retry")
    if advice in ("true", "false"):
        return advice == "true"
    status = error.http_status or 0
    return status == 409 or status >= 500


def _ours(error: stripe.StripeError) -> StripeProblem:
    if isinstance(error, stripe.APIConnectionError | stripe.APIError | stripe.RateLimitError):
        return StripeUnavailable(extra={"stripe_error": type(error).__name__})
    status = error.http_status or 0
    if status >= 500:
        return StripeUnavailable(extra={"stripe_error": f"HTTP {status}"})
    return StripeRefused(f"{type(error).__name__} HTTP {status}", code=error.code or "")


def _call(request: Callable[[stripe.StripeClient], T]) -> T:
    """One call to Stripe: each attempt with its timeouts, at most one retry (see `budget.py`);
    SDK errors become ours."""
    attempts = budget.Attempts()
    while True:
        client = _client(attempts.timeouts())
        try:
            return request(client)
        except stripe.StripeError as error:
            if _retryable(error) and attempts.retry():
                logger.info("stripe call retried", extra={"stripe_error": type(error).__name__})
                continue
            raise _ours(error) from error


def _parsed(parser: Callable[[parse.Fields], Parsed], resource: Any, kind: str) -> Parsed:
    """An API answer through the parser; one we cannot read is Stripe's problem, not ours."""
    try:
        return parser(parse.Fields(resource.to_dict(), kind))
    except MalformedObject as error:
        raise StripeProblem(extra={"stripe_answer": kind, **error.extra}) from error


def checkout_session_create(
    *,
    recurring: Recurring | None,
    amount: Decimal,
    currency: str,
    product_name: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> CheckoutSession:
    """A hosted Checkout Session: one payment (`recurring` None), or a subscription with a
    recurring price of that interval. The amount is the reader's, not a fixed Price."""
    price_data: dict[str, Any] = {
        "currency": currency,
        "unit_amount": to_minor(amount, currency),
        "product_data": {"name": product_name},
    }
    params: dict[str, Any] = {
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "submit_type": "donate",
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if recurring is None:
        params["mode"] = "payment"
        params["payment_intent_data"] = {"metadata": metadata}
    else:
        params["mode"] = "subscription"
        price_data["recurring"] = {
            "interval": recurring.interval,
            "interval_count": recurring.interval_count,
        }
        params["subscription_data"] = {"metadata": metadata}
    session = _call(
        lambda client: client.v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    )
    return _parsed(parse.checkout_session, session, "checkout.session")


def checkout_session_retrieve(session_id: str) -> CheckoutSession:
    session = _call(lambda client: client.v1.checkout.sessions.retrieve(session_id))
    return _parsed(parse.checkout_session, session, "checkout.session")


def price_retrieve(price_id: str) -> Price:
    price = _call(lambda client: client.v1.prices.retrieve(price_id))
    return _parsed(parse.price, price, "price")


def subscription_retrieve(subscription_id: str) -> Subscription:
    subscription = _call(lambda client: client.v1.subscriptions.retrieve(subscription_id))
    return _parsed(parse.subscription, subscription, "subscription")


def invoice_payment_intent_id(invoice_id: str) -> str:
    """The payment intent that paid an invoice (invoice events may not carry their payments)."""
    listing = _call(
        lambda client: client.v1.invoice_payments.list({"invoice": invoice_id, "limit": 10})
    )
    payments = [
        _parsed(parse.invoice_payment, payment, "invoice_payment") for payment in listing.data
    ]
    paid = (p.payment_intent_id for p in payments if p.status == "paid" and p.payment_intent_id)
    return next(paid, "") or ""


def billing_portal_session_create(
    *, customer_id: str, return_url: str, card_update: bool = False
) -> PortalSession:
    """A Billing Portal session for this one customer (opened on its card form when
    `card_update`). Its URL is a credential: never log it."""
    params: dict[str, Any] = {"customer": customer_id, "return_url": return_url}
    if card_update:
        params["flow_data"] = {
            "type": "payment_method_update",
            "after_completion": {"type": "redirect", "redirect": {"return_url": return_url}},
        }
    key = {"idempotency_key": f"portal-{uuid.uuid4().hex}"}  # one session, even if retried
    session = _call(lambda client: client.v1.billing_portal.sessions.create(params, key))  # type: ignore[arg-type]
    return _parsed(parse.portal_session, session, "billing_portal.session")


def subscription_cancel(subscription_id: str) -> str:
    """Cancel at once; returns Stripe's new status. One that already ended on Stripe's side
    (its `customer.subscription.deleted` not processed here yet) is not an error: Stripe
    answers `resource_missing` to cancelling it, so we look it up before refusing."""
    try:
        cancelled = _call(lambda client: client.v1.subscriptions.cancel(subscription_id))
        return _parsed(parse.subscription, cancelled, "subscription").status
    except StripeRefused as error:
        if error.code != "resource_missing":
            raise
        ended = subscription_retrieve(subscription_id)
        if ended.status not in ENDED_SUBSCRIPTION_STATUSES:
            raise
        return ended.status


def _subscription_update(
    subscription_id: str, params: dict[str, Any], idempotency_key: str
) -> Subscription:
    updated = _call(
        lambda client: client.v1.subscriptions.update(
            subscription_id,
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    )
    return _parsed(parse.subscription, updated, "subscription")


def subscription_price_change(
    *,
    subscription: Subscription,
    amount: Decimal,
    interval: Recurring,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Subscription:
    """A new amount and/or interval for the subscription's one item, with proration off (the
    period already paid stays as paid). Stripe restarts the period on a new interval: it
    charges the new amount at once and then every interval from today."""
    item = subscription.item
    if item is None or item.price.product_id is None or item.price.unit_amount is None:
        raise StripeRefused("subscription has no priced item to change", code="no_item")
    currency = item.price.unit_amount.currency
    price_data = {
        "currency": currency,
        "product": item.price.product_id,
        "unit_amount": to_minor(amount, currency),
        "recurring": {"interval": interval.interval, "interval_count": interval.interval_count},
    }
    params = {
        "items": [{"id": item.id, "price_data": price_data, "quantity": 1}],
        "proration_behavior": "none",
        "metadata": metadata,
    }
    return _subscription_update(subscription.id, params, idempotency_key)


def subscription_pause(subscription_id: str, *, idempotency_key: str) -> Subscription:
    """Stop collecting: the renewals that fall while paused are voided, nothing is charged."""
    params = {"pause_collection": {"behavior": "void"}}
    return _subscription_update(subscription_id, params, idempotency_key)


def subscription_resume(subscription_id: str, *, idempotency_key: str) -> Subscription:
    """Collect again from the next renewal on (an empty value clears `pause_collection`)."""
    return _subscription_update(subscription_id, {"pause_collection": ""}, idempotency_key)


def customer_delete(customer_id: str) -> None:
    """Delete the customer in Stripe (saved cards and details go; its payments stay in Stripe's
    records). One already deleted, or unknown, is not an error."""
    try:
        _call(lambda client: client.v1.customers.delete(customer_id))
    except StripeRefused as error:
        if error.code != "resource_missing":
            raise


def refund_create(*, payment_intent_id: str, idempotency_key: str) -> Refund:
    refund = _call(
        lambda client: client.v1.refunds.create(
            {"payment_intent": payment_intent_id, "reason": "requested_by_customer"},
            {"idempotency_key": idempotency_key},
        )
    )
    return _parsed(parse.refund, refund, "refund")


def webhook_event_verify(*, payload: bytes, signature: str | None) -> Event:
    """The event, parsed once its signature checks out (tolerance as Stripe's SDK):
    `InvalidSignature` for a bad signature, `MalformedObject` for a signed payload we cannot
    use (both answered 400)."""
    if not signature:
        raise InvalidSignature(extra={"reason": "missing Stripe-Signature"})
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            WEBHOOK_TOLERANCE_SECONDS,
        )
        data = json.loads(payload)
    except (
        stripe.SignatureVerificationError,
        UnicodeDecodeError,
        ValueError,
        RecursionError,  # JSON nested deeper than Python parses
    ) as error:
        raise InvalidSignature(extra={"reason": type(error).__name__}) from error
    return parse.event(data)
