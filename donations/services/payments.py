"""Record payments from Stripe's objects. Every function here is safe to run twice and in any
order: a payment is unique on each of its Stripe ids (an event about a recorded one merges into
it instead of creating another), and its status only moves forward (pending -> failed -> paid
-> refunded -> disputed). A dispute outranks a refund:
a refunded payment can still be disputed, staff must answer it, and a refund arriving after
its dispute must not hide it, so both orders end disputed (with the refunded amount kept)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from django.db import IntegrityError
from django.db.models import Q

from donations import frequencies, stripe_client
from donations.models import Donation, Donor, RecurringDonation
from donations.services import recurring as recurring_services
from donations.services.donors import donor_upsert
from donations.services.emails import send_receipt
from donations.services.errors import RetryLater
from donations.services.terms import terms_of_session
from newsroom.inserts import insert_if_new

logger = logging.getLogger(__name__)

STATUS_RANK = {
    Donation.Status.PENDING: 0,
    Donation.Status.FAILED: 1,
    Donation.Status.PAID: 2,
    Donation.Status.REFUNDED: 3,
    Donation.Status.DISPUTED: 4,
}
ID_FIELDS = ("stripe_checkout_session_id", "stripe_invoice_id", "stripe_payment_intent_id")


def from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _find(ids: dict[str, str], recurring: RecurringDonation | None, first: bool) -> Donation | None:
    if not ids and not (first and recurring is not None):
        return None  # an empty Q() would match every payment
    query = Q()
    for field, value in ids.items():
        query |= Q(**{field: value})
    if first and recurring is not None:
        query |= Q(recurring=recurring, is_first_payment=True)
    return Donation.objects.select_for_update().filter(query).order_by("pk").first()


def donation_upsert(
    *,
    ids: dict[str, str],
    status: str,
    frequency: str,
    amount: Decimal,
    currency: str,
    donor: Donor | None,
    recurring: RecurringDonation | None = None,
    is_first_payment: bool = False,
    paid_at: datetime | None = None,
    source_page: str = "",
) -> Donation:
    """Find the payment by any of its Stripe ids (or as the first payment of its recurring gift)
    and merge what this object adds; create it when none matches. Queues the receipt when the
    payment becomes paid.

    A new payment is one INSERT, in its status at once: each way `_find` matches is a unique
    constraint, so the INSERT does nothing exactly when a row for this payment exists (or was
    just committed by a concurrent event, which it waits for), and only then is the row looked
    up, locked and merged."""
    ids = {field: value for field, value in ids.items() if value}
    donation = Donation(
        **ids,
        status=status,
        paid_at=_paid_at(status, paid_at),
        frequency=frequency,
        amount=amount,
        currency=currency,
        donor=donor,
        recurring=recurring,
        is_first_payment=is_first_payment,
        source_page=source_page[:200],
    )
    if insert_if_new(donation):
        if status != Donation.Status.PENDING:
            _status_reached(donation)
        return donation
    # Recorded already, or concurrently by another event for it (committed by now).
    found = _find(ids, recurring, is_first_payment)
    if found is None:
        raise IntegrityError("payment insert conflicted but no payment matches")
    donation = found
    _merge(donation, ids=ids, donor=donor, recurring=recurring, source_page=source_page)
    donation_status_advance(donation=donation, status=status, paid_at=paid_at)
    return donation


def _merge(
    donation: Donation,
    *,
    ids: dict[str, str],
    donor: Donor | None,
    recurring: RecurringDonation | None,
    source_page: str,
) -> None:
    changed = [field for field, value in ids.items() if not getattr(donation, field)]
    for field in changed:
        setattr(donation, field, ids[field])
    if donor is not None and donation.donor_id is None:
        donation.donor = donor
        changed.append("donor")
    if recurring is not None and donation.recurring_id is None:
        donation.recurring = recurring
        changed.append("recurring")
    if source_page and not donation.source_page:
        donation.source_page = source_page[:200]
        changed.append("source_page")
    if changed:
        donation.save(update_fields=[*changed, "updated_at"])


def donation_status_advance(
    *, donation: Donation, status: str, paid_at: datetime | None = None
) -> bool:
    """Move the status forward only; a paid payment queues its receipt (after commit)."""
    if STATUS_RANK[Donation.Status(status)] <= STATUS_RANK[Donation.Status(donation.status)]:
        return False
    donation.status = status
    fields = ["status", "updated_at"]
    if donation.paid_at is None and (paid := _paid_at(status, paid_at)) is not None:
        donation.paid_at = paid
        fields.append("paid_at")
    donation.save(update_fields=fields)
    _status_reached(donation)
    return True


def _paid_at(status: str, paid_at: datetime | None) -> datetime | None:
    return (paid_at or datetime.now(tz=UTC)) if status == Donation.Status.PAID else None


def _status_reached(donation: Donation) -> None:
    """What follows a payment's new status: a log line, and the receipt (after commit) once it
    is paid."""
    logger.info(
        "donation status",
        extra={
            "donation": donation.pk,
            "status": donation.status,
            "stripe_ids": _stripe_ids(donation),
        },
    )
    if donation.status == Donation.Status.PAID:
        send_receipt.delay_on_commit(donation.pk)


def _stripe_ids(donation: Donation) -> list[str]:
    return [value for field in ID_FIELDS if (value := getattr(donation, field))]


def _session_total(session: stripe_client.CheckoutSession) -> stripe_client.Money:
    """A completed session carries its total; one without is fetched, else retried later."""
    total = session.amount_total or stripe_client.checkout_session_retrieve(session.id).amount_total
    if total is None:
        raise RetryLater(extra={"stripe_session": session.id, "missing": "amount_total"})
    return total


def payment_record_from_session(
    session: stripe_client.CheckoutSession, *, failed: bool, event_created: int
) -> None:
    """checkout.session.completed / async_payment_succeeded / async_payment_failed."""
    if session.mode not in {"payment", "subscription"}:
        logger.info("checkout session without a payment ignored", extra={"mode": session.mode})
        return
    total = _session_total(session)
    donor = donor_upsert(
        email=session.email or "", name=session.name or "", customer_id=session.customer_id or ""
    )
    status = (
        Donation.Status.FAILED
        if failed
        else (Donation.Status.PAID if session.paid else Donation.Status.PENDING)
    )
    recurring = None
    if session.mode == "subscription" and session.subscription_id:
        recurring = recurring_services.recurring_lock(
            subscription_id=session.subscription_id,
            terms=lambda: terms_of_session(session),
            donor=donor,
            customer_id=session.customer_id or "",
        )
        if session.paid:
            recurring_services.recurring_status_apply(
                recurring=recurring, status=RecurringDonation.Status.ACTIVE, at=event_created
            )
    donation_upsert(
        ids={
            "stripe_checkout_session_id": session.id,
            "stripe_payment_intent_id": session.payment_intent_id or "",
            "stripe_invoice_id": session.invoice_id or "",
        },
        status=status,
        frequency=_session_frequency(session, recurring),
        amount=total.amount,
        currency=total.currency,
        donor=donor,
        recurring=recurring,
        is_first_payment=recurring is not None,
        paid_at=from_timestamp(event_created) if status == Donation.Status.PAID else None,
        source_page=session.metadata.get("source_page", ""),
    )


def _session_frequency(
    session: stripe_client.CheckoutSession, recurring: RecurringDonation | None
) -> str:
    """What was paid for: the frequency we sent with the session (the gift's may have changed
    since, in an event processed first), else the gift's, else its terms'."""
    row = frequencies.find(session.frequency)
    if recurring is not None and row is not None and row.is_recurring:
        return row.value
    return recurring.frequency if recurring is not None else _one_time_or_session(session)


def _one_time_or_session(session: stripe_client.CheckoutSession) -> str:
    """A payment-mode session is a one-time gift; a subscription-mode one whose subscription
    Stripe has not named yet takes the frequency its terms give."""
    if session.mode == "payment":
        return frequencies.ONCE
    return terms_of_session(session).frequency
