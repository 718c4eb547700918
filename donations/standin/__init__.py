"""A local Stripe for tests and the demo. Standard library only; no Django.

It speaks the REST API the stripe SDK sends for the pinned API version (`2026-10-28.endive`):
Checkout Sessions (payment / subscription, `price_data`), customers, subscriptions (update,
cancel), invoices and invoice payments, payment intents, charges, refunds, disputes, billing
portal sessions, events; `expand[]`; idempotency keys (same key + same params replays the
response, other params get `idempotency_error`); Stripe's error shapes. It serves hosted demo
pages (`/pay/<cs_id>`, `/portal/<bps_id>`, an operator page at `/`), and POSTs each event
with a real `Stripe-Signature`, retrying a non-2xx answer with backoff.

    standin = StripeStandin(webhook_secret="whsec_test_newsroom").start()   # port 0
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": standin.url})
    standin.pay(cs_id) / .pay(cs_id, delayed=True) + .settle(cs_id, succeeded=...)
    standin.renew(sub_id) / .fail_invoice(sub_id) / .dispute(ch_id) / .expire(cs_id)
    standin.close_dispute(dp_id, "won" | "lost")
    standin.fail_next(500 | 402 | 429, code=..., drop=False, times=1)
    standin.requests("/v1/checkout/sessions"), .events(type), .event_payloads(type)
    standin.webhook_url = "http://.../stripe/webhook/"; standin.wait_for_webhooks()

As on Stripe: events of one payment come in creation order (customer, charge, payment
intent, subscription, invoice, then `checkout.session.completed` last); a payment-mode session
creates no Customer unless `customer_creation=always` (`customer` stays null,
`customer_details.email` is set); `invoice.payments` appears only with `expand[]=payments`;
cancelling a cancelled subscription is a 404 `resource_missing`.
"""

from donations.standin.standin import StripeStandin

__all__ = ["StripeStandin"]
