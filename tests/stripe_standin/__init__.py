"""A local Stripe for tests and the demo: the REST API the stripe SDK speaks (Checkout
Sessions, customers, subscriptions, invoices, refunds, the billing portal), hosted demo pages,
signed webhooks, and a control API. Standard library only; no Django.

    standin = StripeStandin(webhook_secret="whsec_test_newsroom").start()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": standin.url})
"""

from tests.stripe_standin.standin import StripeStandin

__all__ = ["StripeStandin"]
