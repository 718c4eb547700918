"""The Stripe boundary: the only package that knows Stripe's shapes.

- `calls.py`: every call to Stripe (the only module in the project that imports `stripe`):
  API version pinned once, idempotency keys, a timeout on every call, SDK errors mapped to ours.
- `parse.py`: the one parser from Stripe's JSON (verified events, API answers) to
  `objects.py`'s frozen dataclasses; a field of the wrong type is `MalformedObject` (a 400).
- `money.py`: `Decimal` + currency in our code, Stripe's minor units only here.
- `budget.py`: how long a call may take: a shared budget for a request someone waits on
  (`@reader_waits` on its view), timeouts and one retry per call elsewhere.
- `errors.py`: `StripeProblem` and its kinds, all `ApplicationError`s.
- `dashboard.py`: links to Stripe's dashboard and its hosted pages' origins.

Code past the boundary imports from here: `from donations import stripe_client`.
"""

from donations.stripe_client.budget import reader_budget, reader_waits
from donations.stripe_client.calls import (
    API_VERSION,
    billing_portal_session_create,
    checkout_session_create,
    checkout_session_retrieve,
    customer_delete,
    invoice_payment_intent_id,
    price_retrieve,
    refund_create,
    subscription_cancel,
    subscription_pause,
    subscription_price_change,
    subscription_resume,
    subscription_retrieve,
    webhook_event_verify,
)
from donations.stripe_client.dashboard import dashboard_url, hosted_page_origins, is_livemode
from donations.stripe_client.errors import (
    InvalidSignature,
    MalformedObject,
    StripeProblem,
    StripeRefused,
    StripeUnavailable,
)
from donations.stripe_client.money import MINOR_UNITS, Money, from_minor, to_minor
from donations.stripe_client.objects import (
    Charge,
    CheckoutSession,
    Dispute,
    Event,
    Invoice,
    InvoicePayment,
    PortalSession,
    Price,
    Recurring,
    Refund,
    StripeObject,
    Subscription,
    SubscriptionItem,
)

__all__ = [
    "API_VERSION",
    "MINOR_UNITS",
    "Charge",
    "CheckoutSession",
    "Dispute",
    "Event",
    "InvalidSignature",
    "Invoice",
    "InvoicePayment",
    "MalformedObject",
    "Money",
    "PortalSession",
    "Price",
    "Recurring",
    "Refund",
    "StripeObject",
    "StripeProblem",
    "StripeRefused",
    "StripeUnavailable",
    "Subscription",
    "SubscriptionItem",
    "billing_portal_session_create",
    "checkout_session_create",
    "checkout_session_retrieve",
    "customer_delete",
    "dashboard_url",
    "from_minor",
    "hosted_page_origins",
    "invoice_payment_intent_id",
    "is_livemode",
    "price_retrieve",
    "reader_budget",
    "reader_waits",
    "refund_create",
    "subscription_cancel",
    "subscription_pause",
    "subscription_price_change",
    "subscription_resume",
    "subscription_retrieve",
    "to_minor",
    "webhook_event_verify",
]
