"""The only module that talks to Stripe.

Small typed functions returning our own dataclasses; the API version pinned here once; an
idempotency key on every create; SDK errors mapped to `StripeUnavailable` (network, 5xx,
rate limit: try again later) and `StripeRefused` (4xx: Stripe said no). Amounts arrive as
`Decimal` + currency and become minor units only here. The client is built at call time, so
`override_settings(STRIPE_API_BASE=...)` sends it to a local stand-in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from newsroom.errors import ApplicationError, TransientError

API_VERSION = "2026-10-28.endive"  # the version stripe 16.x ships; shapes in tests/fixtures
WEBHOOK_TOLERANCE_SECONDS = 300  # as Stripe's SDK
TIMEOUT_RETRIES = 1

# Two-decimal currencies only; a zero-decimal currency (JPY, KRW, ...) would need 1 here.
MINOR_UNITS = {"usd": 100, "eur": 100, "gbp": 100}

T = TypeVar("T")


class StripeProblem(ApplicationError):
    """Base for errors from the Stripe boundary. Its detail goes to `extra`, for logs."""

    default_message = "Our payment provider did not answer as expected. Nothing was charged."


class StripeUnavailable(StripeProblem, TransientError):
    """Stripe could not be reached or failed on its side: retrying later may help."""

    default_message = (
        "Payments are briefly unavailable. Nothing was charged; please try again in a moment."
    )


class StripeRefused(StripeProblem):
    """Stripe refused the request (a 4xx): retrying the same request will not help."""

    def __init__(self, detail: str, *, code: str = "") -> None:
        super().__init__(extra={"stripe_error": detail, "stripe_code": code})
        self.code = code


class InvalidSignature(StripeProblem):
    """A webhook payload whose `Stripe-Signature` is missing, wrong or too old."""

    default_message = "invalid signature"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    mode: str
    payment_status: str
    amount_total: Decimal | None
    currency: str
    frequency: str


@dataclass(frozen=True)
class PortalSession:
    url: str


@dataclass(frozen=True)
class Refund:
    id: str
    status: str


def to_minor(amount: Decimal, currency: str) -> int:
    factor = MINOR_UNITS[currency.lower()]
    return int((amount * factor).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    factor = MINOR_UNITS.get(currency.lower(), 100)
    return (Decimal(amount) / factor).quantize(Decimal("0.01"))


def _client() -> stripe.StripeClient:
    base: str = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        base_addresses={"api": base} if base else None,
        max_network_retries=TIMEOUT_RETRIES,
    )


def _call(request: Callable[[], T]) -> T:
    try:
        return request()
    except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
        raise StripeUnavailable(extra={"stripe_error": type(error).__name__}) from error
    except stripe.StripeError as error:
        status = error.http_status or 0
        if status >= 500:
            raise StripeUnavailable(extra={"stripe_error": f"HTTP {status}"}) from error
        raise StripeRefused(
            f"{type(error).__name__} HTTP {status}", code=error.code or ""
        ) from error


def checkout_session_create(
    *,
    frequency: str,
    amount: Decimal,
    currency: str,
    product_name: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> CheckoutSession:
    """A hosted Checkout Session: one payment, or a subscription with a recurring price of
    interval month or year. The amount is the reader's, not a fixed Price."""
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
    if frequency == "once":
        params["mode"] = "payment"
        params["payment_intent_data"] = {"metadata": metadata}
    else:
        params["mode"] = "subscription"
        price_data["recurring"] = {"interval": "month" if frequency == "monthly" else "year"}
        params["subscription_data"] = {"metadata": metadata}
    session = _call(
        lambda: _client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    )
    return _checkout_session(session)


def checkout_session_retrieve(session_id: str) -> CheckoutSession:
    session = _call(lambda: _client().v1.checkout.sessions.retrieve(session_id))
    return _checkout_session(session)


def _checkout_session(resource: Any) -> CheckoutSession:
    session: dict[str, Any] = resource.to_dict()
    currency = session.get("currency") or ""
    total = session.get("amount_total")
    metadata = session.get("metadata") or {}
    return CheckoutSession(
        id=session["id"],
        url=session.get("url") or "",
        mode=session.get("mode") or "",
        payment_status=session.get("payment_status") or "",
        amount_total=from_minor(total, currency) if total is not None and currency else None,
        currency=currency,
        frequency=metadata.get("frequency", ""),
    )


def invoice_payment_intent_id(invoice_id: str) -> str:
    """The payment intent that paid an invoice (invoice events may not carry their payments)."""
    payments = _call(
        lambda: _client().v1.invoice_payments.list({"invoice": invoice_id, "limit": 10})
    )
    for payment in payments.to_dict().get("data", []):
        intent = (payment.get("payment") or {}).get("payment_intent")
        if payment.get("status") == "paid" and intent:
            return str(intent)
    return ""


def billing_portal_session_create(
    *, customer_id: str, return_url: str, card_update: bool = False
) -> PortalSession:
    """A Billing Portal session for this one customer (opened on the card form when
    `card_update`). Its URL is a credential: never log it."""
    params: dict[str, Any] = {"customer": customer_id, "return_url": return_url}
    if card_update:
        params["flow_data"] = {
            "type": "payment_method_update",
            "after_completion": {"type": "redirect", "redirect": {"return_url": return_url}},
        }
    session = _call(lambda: _client().v1.billing_portal.sessions.create(params))  # type: ignore[arg-type]
    return PortalSession(url=session["url"])


ENDED_SUBSCRIPTION_STATUSES = ("canceled", "incomplete_expired")


def subscription_cancel(subscription_id: str) -> str:
    """Cancel at once; returns Stripe's new status. One that already ended on Stripe's side
    (its `customer.subscription.deleted` not processed here yet) is not an error: Stripe
    answers `resource_missing` to cancelling it, so we look it up before refusing."""
    try:
        subscription = _call(lambda: _client().v1.subscriptions.cancel(subscription_id))
    except StripeRefused as error:
        if error.code != "resource_missing":
            raise
        subscription = _call(lambda: _client().v1.subscriptions.retrieve(subscription_id))
        if subscription["status"] not in ENDED_SUBSCRIPTION_STATUSES:
            raise
    return str(subscription["status"])


def refund_create(*, payment_intent_id: str, idempotency_key: str) -> Refund:
    refund = _call(
        lambda: _client().v1.refunds.create(
            {"payment_intent": payment_intent_id, "reason": "requested_by_customer"},
            {"idempotency_key": idempotency_key},
        )
    )
    return Refund(id=refund["id"], status=refund["status"])


def webhook_event_verify(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event as a plain dict, once its signature checks out (tolerance as Stripe's SDK)."""
    if not signature:
        raise InvalidSignature(extra={"reason": "missing Stripe-Signature"})
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            WEBHOOK_TOLERANCE_SECONDS,
        )
        event: dict[str, Any] = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise InvalidSignature(extra={"reason": type(error).__name__}) from error
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise InvalidSignature(extra={"reason": "not an event"})
    return event


def hosted_page_origins() -> list[str]:
    """Origins of Stripe's hosted Checkout and Billing Portal pages (or the stand-in's)."""
    origins = ["https://checkout.stripe.com", "https://billing.stripe.com"]
    base: str = settings.STRIPE_API_BASE
    if base:
        parts = urlsplit(base)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def is_livemode() -> bool:
    """Whether the configured key is a live one (`sk_live_...` or a restricted `rk_live_...`)."""
    key: str = settings.STRIPE_SECRET_KEY or ""
    return key.startswith(("sk_live_", "rk_live_"))


def dashboard_url(object_id: str, *, livemode: bool | None = None) -> str:
    """Where staff see an object in Stripe's dashboard (the live one when the key is live)."""
    livemode = is_livemode() if livemode is None else livemode
    paths = {
        "cus_": "customers",
        "sub_": "subscriptions",
        "in_": "invoices",
        "pi_": "payments",
        "ch_": "payments",
        "cs_": "checkout/sessions",
        "evt_": "events",
    }
    path = next((p for prefix, p in paths.items() if object_id.startswith(prefix)), "search")
    test = "" if livemode else "test/"
    return f"https://dashboard.stripe.com/{test}{path}/{object_id}"
