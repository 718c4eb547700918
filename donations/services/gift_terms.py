"""A recurring gift's terms as Stripe last stated them: amount, currency, frequency (with the
price they were read from), the next charge date and whether collection is paused.

Stored from Stripe's statements, so the donor's page, the admin, the figures and the emails
never call Stripe to show them. Events arrive in any order, so each statement has a time and
**the newest statement wins**, precisely:

- a subscription event (`customer.subscription.created`, `.updated`, `.deleted`) states the
  subscription as it was at the event's `created`;
- an invoice (`invoice.paid`, `invoice.payment_failed`) states the price the subscription had
  when Stripe made the invoice: its time is the invoice's own `created`, not its event's, so a
  renewal paid late (retried for days) never brings back a price the donor changed meanwhile;
- our own change, as Stripe answered it, is stated at the time of the answer;
- the Checkout Session that created the gift states its terms at time 0: any statement from
  Stripe's subscription or invoices replaces them.

A statement is stored when its time is later than the stored one's
(`terms_changed_by_event_at`). At the same second (Stripe's `created` is in whole seconds) a
subscription statement replaces what is stored and an invoice does not: the subscription says
what its price is now, an invoice what it was. Two subscription statements of one second keep
the later one processed. What a statement does not carry is never invented: an invoice names
its price by id only, so the price is fetched from Stripe (unless it is the gift's own price,
known already), or the event is answered 5xx through `RetryLater` and Stripe sends it again; an
invoice naming no price, or a subscription without its item, leaves amount and frequency as
they are.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from donations import stripe_client
from donations.models import RecurringDonation
from donations.services.terms import GiftTerms, terms_of_invoice, terms_of_price

logger = logging.getLogger(__name__)

FIRST_INVOICE_REASON = "subscription_create"  # the invoice its checkout paid


def _store(recurring: RecurringDonation, values: dict[str, object], at: int) -> bool:
    changed = [name for name, value in values.items() if getattr(recurring, name) != value]
    for name in changed:
        setattr(recurring, name, values[name])
    fields = [*changed, "updated_at"]
    if at != recurring.terms_changed_by_event_at:
        recurring.terms_changed_by_event_at = at
        fields.append("terms_changed_by_event_at")
    recurring.save(update_fields=fields)
    if changed:
        logger.info(
            "recurring gift terms",
            extra={"subscription": recurring.stripe_subscription_id, "changed": changed, "at": at},
        )
    return bool(changed)


def _terms_values(terms: GiftTerms) -> dict[str, object]:
    values: dict[str, object] = {
        "frequency": terms.frequency,
        "amount": terms.amount.amount,
        "currency": terms.amount.currency,
    }
    if terms.price_id:
        values["stripe_price_id"] = terms.price_id
    return values


def recurring_terms_apply(
    *, recurring: RecurringDonation, subscription: stripe_client.Subscription, at: int
) -> bool:
    """Store what `subscription` (stated by Stripe at `at`: an event's `created`, or now for an
    API answer) says on a locked row, unless a later statement was stored already. True when
    something changed."""
    if at < recurring.terms_changed_by_event_at:
        return False
    values: dict[str, object] = {"paused": subscription.paused}
    item = subscription.item
    if item is not None:
        values.update(_terms_values(terms_of_price(item.price)))
        if item.current_period_end is not None:
            values["next_charge_at"] = datetime.fromtimestamp(item.current_period_end, tz=UTC)
    return _store(recurring, values, at)


def invoice_terms(*, recurring: RecurringDonation, invoice: stripe_client.Invoice) -> GiftTerms:
    """The terms `invoice` was made for, stored on the locked gift when the invoice is newer
    than what stated the stored ones. The gift's own price asks Stripe nothing; another price
    (a change the donor made, or a gift first seen from the checkout) is fetched."""
    price_id = invoice.price_ids[0] if invoice.price_ids else ""
    # An invoice naming no price states nothing new (the gift was made from its subscription).
    same_price = price_id in ("", recurring.stripe_price_id)
    # Known from its checkout only: the checkout's terms are its first invoice's.
    checkout_only = not recurring.stripe_price_id and recurring.terms_changed_by_event_at == 0
    if same_price or (checkout_only and invoice.billing_reason == FIRST_INVOICE_REASON):
        return GiftTerms(
            frequency=recurring.frequency,
            amount=stripe_client.Money(recurring.amount, recurring.currency),
            price_id=recurring.stripe_price_id,
        )
    terms = terms_of_invoice(invoice)
    at = invoice.created or 0
    if at > recurring.terms_changed_by_event_at and terms.price_id:
        _store(recurring, _terms_values(terms), at)
    return terms
