"""Payments from invoices (recurring gifts); refunds are in `charges`, disputes in `disputes`."""

from __future__ import annotations

import logging

from donations import stripe_client
from donations.models import Donation, RecurringDonation
from donations.services import recurring as recurring_services
from donations.services.donors import donor_upsert
from donations.services.payments import donation_upsert, from_timestamp
from donations.services.terms import terms_of_invoice
from newsroom.task_base import task

logger = logging.getLogger(__name__)

FIRST_INVOICE_REASON = "subscription_create"


def payment_record_from_invoice(invoice: stripe_client.Invoice, *, event_created: int) -> None:
    """invoice.paid: a recurring gift's payment. The first invoice of a subscription is the
    same gift as its checkout, so it merges with the checkout's payment row."""
    if not invoice.subscription_id:
        logger.info("invoice without subscription ignored", extra={"invoice": invoice.id})
        return
    donor = donor_upsert(
        email=invoice.email or "", name=invoice.name or "", customer_id=invoice.customer_id or ""
    )
    recurring = recurring_services.recurring_lock(
        subscription_id=invoice.subscription_id,
        terms=lambda: terms_of_invoice(invoice),
        donor=donor,
        customer_id=invoice.customer_id or "",
    )
    recurring_services.recurring_status_apply(
        recurring=recurring, status=RecurringDonation.Status.ACTIVE, at=event_created
    )
    donation = donation_upsert(
        ids={
            "stripe_invoice_id": invoice.id,
            "stripe_payment_intent_id": invoice.payment_intent_id or "",
        },
        status=Donation.Status.PAID,
        frequency=recurring.frequency,
        amount=invoice.amount_paid.amount,
        currency=invoice.amount_paid.currency,
        donor=donor,
        recurring=recurring,
        is_first_payment=invoice.billing_reason == FIRST_INVOICE_REASON,
        paid_at=from_timestamp(invoice.paid_at),
        source_page=invoice.subscription_metadata.get("source_page", ""),
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


def payment_failed_from_invoice(invoice: stripe_client.Invoice, *, event_created: int) -> None:
    """invoice.payment_failed: the recurring gift is past due; the donor is asked to fix it."""
    if not invoice.subscription_id:
        return
    recurring_services.recurring_payment_failed(
        subscription_id=invoice.subscription_id,
        invoice_id=invoice.id,
        terms=lambda: terms_of_invoice(invoice),
        donor=donor_upsert(email=invoice.email or "", customer_id=invoice.customer_id or ""),
        event_created=event_created,
    )
