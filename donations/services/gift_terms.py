"""A recurring gift's terms as Stripe last stated them: amount, currency, frequency, the next
charge date and whether collection is paused.

Stored from subscription events (and from Stripe's answer to a change the donor made on our
page), so the donor's page never calls Stripe to show them. A statement older than the one
that last set them is ignored (events arrive in any order); a field the object does not carry
is left as it is, never invented.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from donations.models import RecurringDonation
from donations.stripe_billing import SubscriptionTerms

logger = logging.getLogger(__name__)


def recurring_terms_apply(
    *, recurring: RecurringDonation, terms: SubscriptionTerms, at: int
) -> bool:
    """Store `terms` stated by Stripe at `at` (an event's `created`, or now for an API answer)
    on a locked row, unless newer terms were stored already. True when something changed."""
    if at < recurring.terms_changed_by_event_at:
        return False
    values: dict[str, object] = {"paused": terms.paused}
    if terms.amount is not None and terms.currency:
        values.update(amount=terms.amount, currency=terms.currency)
    if terms.frequency:
        values["frequency"] = terms.frequency
    if terms.current_period_end is not None:
        values["next_charge_at"] = datetime.fromtimestamp(terms.current_period_end, tz=UTC)
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
