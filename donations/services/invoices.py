"""Payments from invoices (recurring gifts), charges (refunds) and disputes."""

from __future__ import annotations

import logging
import time
from typing import Any

from donations import stripe_client
from donations.models import Donation, Frequency, RecurringDonation
from donations.services import recurring as recurring_services
from donations.services.donors import donor_upsert
from donations.services.emails import send_dispute_notice
from donations.services.errors import RetryLater
from donations.services.payments import donation_status_advance, donation_upsert, from_timestamp
from newsroom.task_base import task

logger = logging.getLogger(__name__)

FIRST_INVOICE_REASON = "subscription_create"
# How long a refund or dispute for a payment we have not recorded yet is sent back to Stripe to
# retry: its checkout or invoice event may still be on its way (Stripe retries for 3 days).
ORPHAN_RETRY_SECONDS = 3 * 86400


def _subscription_of(invoice: dict[str, Any]) -> tuple[str, dict[str, str]]:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or "", details.get("metadata") or {}


def _payment_intent_of(invoice: dict[str, Any]) -> str:
    """Present when the event carries the invoice's payments (`invoice_payment` objects)."""
    for payment in ((invoice.get("payments") or {}).get("data")) or []:
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return str(intent)
    return ""


def _frequency_of(invoice: dict[str, Any], metadata: dict[str, str]) -> str:
    if metadata.get("frequency") in {Frequency.MONTHLY, Frequency.ANNUAL}:
        return metadata["frequency"]
    for line in (invoice.get("lines") or {}).get("data") or []:
        period = line.get("period") or {}
        if period.get("end") and period.get("start"):
            days = (period["end"] - period["start"]) / 86400
            return Frequency.ANNUAL if days > 45 else Frequency.MONTHLY
    return Frequency.MONTHLY


def payment_record_from_invoice(invoice: dict[str, Any], *, event_created: int) -> None:
    """invoice.paid: a recurring gift's payment. The first invoice of a subscription is the
    same gift as its checkout, so it merges with the checkout's payment row."""
    subscription_id, metadata = _subscription_of(invoice)
    if not subscription_id:
        logger.info("invoice without subscription ignored", extra={"invoice": invoice["id"]})
        return
    currency = invoice.get("currency") or "usd"
    amount = stripe_client.from_minor(invoice.get("amount_paid") or 0, currency)
    donor = donor_upsert(
        email=invoice.get("customer_email") or "",
        name=invoice.get("customer_name") or "",
        customer_id=invoice.get("customer") or "",
    )
    frequency = _frequency_of(invoice, metadata)
    recurring = recurring_services.recurring_lock(
        subscription_id=subscription_id,
        frequency=frequency,
        amount=amount,
        currency=currency,
        donor=donor,
        customer_id=invoice.get("customer") or "",
    )
    recurring_services.recurring_status_apply(
        recurring=recurring, status=RecurringDonation.Status.ACTIVE, at=event_created
    )
    transitions = invoice.get("status_transitions") or {}
    donation = donation_upsert(
        ids={
            "stripe_invoice_id": invoice["id"],
            "stripe_payment_intent_id": _payment_intent_of(invoice),
        },
        status=Donation.Status.PAID,
        frequency=recurring.frequency,
        amount=amount,
        currency=currency,
        donor=donor,
        recurring=recurring,
        is_first_payment=invoice.get("billing_reason") == FIRST_INVOICE_REASON,
        paid_at=from_timestamp(transitions.get("paid_at")),
        source_page=metadata.get("source_page", ""),
    )
    if not donation.stripe_payment_intent_id:
        fill_payment_intent.delay_on_commit(donation.pk)


def donation_payment_intent_fill(*, donation_id: int) -> str:
    """Ask Stripe which payment intent paid this invoice, so refunds and disputes (which name
    the payment intent) find the payment. Safe to run twice."""
    donation = Donation.objects.filter(pk=donation_id).first()
    if donation is None or donation.stripe_payment_intent_id or not donation.stripe_invoice_id:
        return (donation.stripe_payment_intent_id or "") if donation else ""
    intent = stripe_client.invoice_payment_intent_id(donation.stripe_invoice_id)
    if intent:
        Donation.objects.filter(pk=donation_id, stripe_payment_intent_id=None).update(
            stripe_payment_intent_id=intent
        )
        logger.info("payment intent filled", extra={"donation": donation_id, "intent": intent})
    return intent


@task(name="donations.tasks.fill_payment_intent")
def fill_payment_intent(donation_id: int) -> str:
    return donation_payment_intent_fill(donation_id=donation_id)


def payment_failed_from_invoice(invoice: dict[str, Any], *, event_created: int) -> None:
    """invoice.payment_failed: the recurring gift is past due; the donor is asked to fix it."""
    subscription_id, _ = _subscription_of(invoice)
    if not subscription_id:
        return
    recurring_services.recurring_payment_failed(
        subscription_id=subscription_id,
        invoice_id=invoice["id"],
        donor=donor_upsert(
            email=invoice.get("customer_email") or "", customer_id=invoice.get("customer") or ""
        ),
        event_created=event_created,
    )


def _donation_for_charge(payment_intent: str, charge_id: str) -> Donation | None:
    rows = Donation.objects.select_for_update()
    found = rows.filter(stripe_payment_intent_id=payment_intent).first() if payment_intent else None
    if found is None and charge_id:
        found = rows.filter(stripe_charge_id=charge_id).first()
    if found is not None and charge_id and not found.stripe_charge_id:
        found.stripe_charge_id = charge_id
        found.save(update_fields=["stripe_charge_id", "updated_at"])
    return found


def _unknown_payment(kind: str, object_id: str, event_created: int) -> None:
    """A refund or dispute can arrive before the payment it is about (or, for a renewal, before
    the payment intent is filled in): ask Stripe to send it again while that is plausible."""
    if time.time() - event_created < ORPHAN_RETRY_SECONDS:
        raise RetryLater(f"{kind} {object_id} for a payment not recorded yet")
    logger.warning("payment unknown", extra={"kind": kind, "stripe_object": object_id})


def payment_refunded_from_charge(charge: dict[str, Any], *, event_created: int) -> None:
    """charge.refunded: record the refunded amount; a full refund marks the payment refunded."""
    donation = _donation_for_charge(charge.get("payment_intent") or "", charge["id"])
    if donation is None:
        _unknown_payment("refund", charge["id"], event_created)
        return
    refunded = stripe_client.from_minor(charge.get("amount_refunded") or 0, donation.currency)
    if refunded > donation.amount_refunded:
        donation.amount_refunded = refunded
        donation.save(update_fields=["amount_refunded", "updated_at"])
    if charge.get("refunded") or refunded >= donation.amount:
        donation_status_advance(donation=donation, status=Donation.Status.REFUNDED)


def payment_disputed(dispute: dict[str, Any], *, event_created: int) -> None:
    """charge.dispute.created: the payment is disputed; staff answer it in Stripe."""
    donation = _donation_for_charge(dispute.get("payment_intent") or "", dispute.get("charge", ""))
    if donation is None:
        _unknown_payment("dispute", dispute["id"], event_created)
        return
    if donation_status_advance(donation=donation, status=Donation.Status.DISPUTED):
        send_dispute_notice.delay_on_commit(donation.pk)
    logger.warning("payment disputed", extra={"dispute": dispute["id"], "donation": donation.pk})
