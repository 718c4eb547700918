"""Disputes from Stripe's `charge.dispute.created` and `charge.dispute.closed` events.

One row per Stripe dispute keeps what Stripe's newest event about it says: the disputed amount,
Stripe's status and our outcome. Open, the amount is counted apart from revenue; won (or an
inquiry closed without a chargeback, or a dispute prevented) it is revenue again; lost, it is
subtracted (`donations/figures.py`). Events come in any order and more than once: the newest
event (Stripe's `created`) sets the status, and of two in the same second the closed one wins,
so a replay, or a `closed` that arrives before its `created`, ends the same. The payment reads
disputed while any of its disputes is open or lost and goes back to paid (or refunded) when all
are won. A dispute about a payment not recorded as paid yet answers 503 (`RetryLater`): Stripe
sends it again once the payment's own event has arrived (for up to 3 days, as a refund).
"""

from __future__ import annotations

import logging

from donations import stripe_client
from donations.models import Dispute, Donation
from donations.services.charges import donation_for_charge, payment_not_recorded_yet
from donations.services.emails import send_dispute_notice
from donations.services.payments import donation_status_advance, from_timestamp

logger = logging.getLogger(__name__)

Outcome = Dispute.Outcome
# Stripe's dispute statuses (API 2026-10-28) -> our outcome. `warning_*` is an inquiry (no
# money moved yet), `appeal_*` a lost dispute appealed: both still open.
OUTCOMES = {
    "warning_needs_response": Outcome.OPEN,
    "warning_under_review": Outcome.OPEN,
    "needs_response": Outcome.OPEN,
    "under_review": Outcome.OPEN,
    "appeal_needs_response": Outcome.OPEN,
    "appeal_under_review": Outcome.OPEN,
    "warning_closed": Outcome.WON,
    "prevented": Outcome.WON,
    "won": Outcome.WON,
    "lost": Outcome.LOST,
}
# Of two statuses set by events of the same second, the higher rank is kept (closed over open).
RANK = {Outcome.OPEN: 0, Outcome.WON: 1, Outcome.LOST: 2}
NOT_PAID_YET = (Donation.Status.PENDING, Donation.Status.FAILED)


def dispute_outcome(status: str) -> Outcome:
    """Our outcome for Stripe's status; a status Stripe added since is open until it says
    won or lost (the amount stays apart from revenue, neither returned nor lost)."""
    outcome = OUTCOMES.get(status)
    if outcome is None:
        logger.warning("dispute status unknown: counted as open", extra={"status": status})
        return Outcome.OPEN
    return outcome


def payment_dispute_record(dispute: stripe_client.Dispute, *, event_created: int) -> None:
    """charge.dispute.created / charge.dispute.closed: record the dispute as Stripe says it
    is now, then the payment's status from all its disputes."""
    donation = donation_for_charge(
        payment_intent=dispute.payment_intent_id or "", charge_id=dispute.charge_id or ""
    )
    if donation is None or donation.status in NOT_PAID_YET:  # a disputed charge was paid
        payment_not_recorded_yet(kind="dispute", object_id=dispute.id, event_created=event_created)
        return
    outcome = dispute_outcome(dispute.status)
    row = Dispute.objects.select_for_update().filter(stripe_dispute_id=dispute.id).first()
    if row is None:
        row = Dispute(donation=donation, stripe_dispute_id=dispute.id)
    elif (event_created, RANK[outcome]) <= (
        row.status_changed_by_event_at,
        RANK[Outcome(row.outcome)],
    ):
        _payment_status_from_disputes(donation)
        return  # an older (or the same) statement of this dispute: what we hold stands
    row.amount, row.currency = dispute.amount.amount, dispute.amount.currency
    row.stripe_status, row.outcome = dispute.status, outcome
    row.closed_at = from_timestamp(event_created) if outcome != Outcome.OPEN else None
    row.status_changed_by_event_at = event_created
    row.save()
    logger.warning(
        "payment dispute",
        extra={"dispute": dispute.id, "donation": donation.pk, "status": dispute.status},
    )
    _payment_status_from_disputes(donation)


def _payment_status_from_disputes(donation: Donation) -> None:
    """Disputed while a dispute is open or lost (staff are told once); when every dispute is
    won, back to what the payment was without them: refunded in full, or paid."""
    outcomes = set(donation.disputes.values_list("outcome", flat=True))
    if outcomes & {Outcome.OPEN, Outcome.LOST}:
        if donation_status_advance(donation=donation, status=Donation.Status.DISPUTED):
            send_dispute_notice.delay_on_commit(donation.pk)
        return
    if donation.status != Donation.Status.DISPUTED:
        return
    refunded = donation.amount_refunded >= donation.amount
    donation.status = Donation.Status.REFUNDED if refunded else Donation.Status.PAID
    donation.save(update_fields=["status", "updated_at"])
    logger.info(
        "donation status",
        extra={"donation": donation.pk, "status": donation.status, "reason": "disputes won"},
    )
