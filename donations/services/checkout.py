"""Start a Stripe Checkout Session for the reader's gift. Nothing is written to our database
here: the gift is recorded from Stripe's webhooks, so a failed call leaves nothing behind."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from donations import frequencies, stripe_client
from donations.appeals.config import live_appeal
from donations.appeals.services.counting import METADATA_KEY, count
from donations.models import Donation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThankYou:
    amount: Decimal | None
    currency: str
    gift_words: str  # "monthly gift", or "gift" when the frequency is not known
    paid: bool
    recurring: bool = False  # a monthly or annual gift (the banner then stops asking)


def checkout_idempotency_key(
    *, attempt: str, frequency: str, amount: Decimal, currency: str
) -> str:
    """The same form submission (its `attempt` nonce and choices) makes the same session."""
    material = f"{attempt}|{frequency}|{amount}|{currency}".encode()
    return "checkout-" + hashlib.sha256(material).hexdigest()[:40]


def _running_variant(variant_id: int | None) -> int | None:
    """The variant, if it belongs to the experiment running now."""
    live = live_appeal()
    arm = live.arm(variant_id) if live is not None and variant_id is not None else None
    return arm.id if arm is not None else None


def donation_checkout_start(
    *,
    frequency: str,
    amount: Decimal,
    currency: str,
    source_page: str,
    attempt: str,
    variant_id: int | None = None,
) -> str:
    """The URL of the hosted Checkout page for this gift. Raises `StripeUnavailable` when
    Stripe cannot open one now (unreachable, too slow for the reader's budget, refusing);
    nothing to undo either way.

    A checkout started from a variant of a running experiment carries the variant's number in
    the session's metadata (so the payment's webhook counts the gift for it) and counts one
    checkout start for it."""
    site = settings.SITE_URL
    row = frequencies.get(frequency)
    recurring = stripe_client.Recurring(*row.stripe_interval) if row.stripe_interval else None
    metadata = {"frequency": frequency, "source_page": source_page[:200]}
    variant = _running_variant(variant_id)
    if variant is not None:
        metadata[METADATA_KEY] = str(variant)
    try:
        session = stripe_client.checkout_session_create(
            recurring=recurring,
            amount=amount,
            currency=currency,
            product_name=row.product_name.format(site=settings.SITE_NAME),
            metadata=metadata,
            success_url=site + reverse("donations:thank_you") + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=site + (source_page or reverse("donations:support")),
            idempotency_key=checkout_idempotency_key(
                attempt=attempt, frequency=frequency, amount=amount, currency=currency
            ),
        )
    except stripe_client.StripeProblem as error:
        logger.warning("checkout failed", extra={"error": type(error).__name__, **error.extra})
        if isinstance(error, stripe_client.StripeUnavailable):
            raise
        # Stripe refused a gift the form accepted, or answered oddly: for the reader, payments
        # are unavailable just now (the log says why).
        raise stripe_client.StripeUnavailable(extra=error.extra) from error
    if variant is not None:
        count(variant, "checkouts")
    logger.info(
        "checkout session created",
        extra={"stripe_session": session.id, "frequency": frequency, "currency": currency,
               "variant": variant},
    )  # fmt: skip
    if session.url is None:  # an open session always has one
        raise stripe_client.StripeUnavailable(extra={"stripe_session": session.id, "field": "url"})
    return session.url


def thank_you_lookup(*, session_id: str) -> ThankYou | None:
    """From our records, or from Stripe when its webhook has not arrived yet."""
    donation = Donation.objects.filter(stripe_checkout_session_id=session_id).first()
    if donation is not None:
        return ThankYou(
            amount=donation.amount,
            currency=donation.currency,
            gift_words=donation.gift_words,
            paid=donation.status == Donation.Status.PAID,
            recurring=frequencies.get(donation.frequency).is_recurring,
        )
    try:
        session = stripe_client.checkout_session_retrieve(session_id)
    except stripe_client.StripeProblem:
        return None
    total = session.amount_total
    row = frequencies.find(session.frequency)
    return ThankYou(
        amount=total.amount if total else None,
        currency=total.currency if total else "",
        gift_words=row.gift_words if row else "gift",
        paid=session.paid,
        recurring=row is not None and row.is_recurring,
    )
