"""Where Stripe's pages are: its hosted Checkout and portal origins, and its dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


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
        "dp_": "disputes",
        "cs_": "checkout/sessions",
        "evt_": "events",
    }
    path = next((p for prefix, p in paths.items() if object_id.startswith(prefix)), "search")
    test = "" if livemode else "test/"
    return f"https://dashboard.stripe.com/{test}{path}/{object_id}"
