"""A recurring gift's terms as Stripe last stated them: amount, currency, frequency, the next
charge date and whether collection is paused.

Stored from subscription events (and from Stripe's answer to a change the donor made on our
page), so the donor's page never calls Stripe to show them. A statement older than the one
that last set them is ignored (events arrive in any order); an object that carries no item
(`terms.py` fetches those when a gift is first created) leaves amount and frequency as they
are, never invented.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from donations import stripe_client
from donations.models import RecurringDonation
from donations.services.terms import terms_of_price

logger = logging.getLogger(__name__)


def recurring_terms_apply(
    *, recurring: RecurringDonation, subscription: stripe_client.Subscription, at: int
) -> bool:
    """Store what `subscription` (stated by Stripe at `at`: an event's `created`, or now for an
    API answer) says on a locked row, unless newer terms were stored already. True when
    something changed."""
    if at < recurring.terms_changed_by_event_at:
        return False
    values: dict[str, object] = {"paused": subscription.paused}
    item = subscription.item
    if item is not None:
        terms = terms_of_price(item.price)
        values.update(
            frequency=terms.frequency, amount=terms.amount.amount, currency=terms.amount.currency
        )
        if item.current_period_end is not None:
            values["next_charge_at"] = datetime.fromtimestamp(item.current_period_end, tz=UTC)
    changed = [name for name, value in values.items() if getattr(recurring, name) != value]
    for name in changed:
        setattr(recurring, name, values[name])
    recurring.terms_changed_by_event_at = at
    recurring.save(update_fields=[*changed, "terms_changed_by_event_at", "updated_at"])
    if changed:
        logger.info(
            "recurring gift terms",
            extra={"subscription": recurring.stripe_subscription_id, "changed": changed},
        )
    return bool(changed)
