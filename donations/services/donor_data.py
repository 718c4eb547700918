"""What the donations app holds about one address, for the person's own copy, and its erasure.

Export: every stored field of the donor, their payments, recurring gifts, changes, failed
renewals, the Stripe events about their objects (ids and times: payloads are never stored)
and the reminders asked with the address. Nothing of anyone else.

Erase: every live recurring gift is cancelled in Stripe first (Stripe would otherwise go on
charging someone we can no longer reach), then every Stripe customer of the donor is deleted
there, then our rows lose everything personal: the donor keeps no email and no name (only
the Stripe customer id, so a late event for that customer finds this anonymous row instead of
creating a donor again), payments keep amount, currency, dates, status and Stripe ids (what
the accounts need) and lose the page they were given on, reminders with the address are
deleted. A Stripe failure stops before any row changes; running it again is safe.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from donations import stripe_client
from donations.models import (
    Donation,
    Donor,
    FailedPayment,
    RecurringChange,
    RecurringDonation,
    Reminder,
    StripeEvent,
)
from donations.selectors import normalise_email
from donations.services.recurring import recurring_status_apply

logger = logging.getLogger(__name__)

STRIPE_ID_FIELDS = (
    "stripe_customer_id",
    "stripe_subscription_id",
    "stripe_checkout_session_id",
    "stripe_invoice_id",
    "stripe_payment_intent_id",
    "stripe_charge_id",
)


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_fields(row: models.Model) -> dict[str, Any]:
    """Every stored column of a row (foreign keys as their ids), JSON-ready."""
    return {
        field.attname: _json(getattr(row, field.attname)) for field in row._meta.concrete_fields
    }


def _rows(queryset: models.QuerySet[Any]) -> list[dict[str, Any]]:
    return [row_fields(row) for row in queryset.order_by("created_at", "pk")]


def _stripe_ids(donor: Donor, *querysets: models.QuerySet[Any]) -> set[str]:
    ids = {donor.stripe_customer_id or ""}
    for queryset in querysets:
        for field in STRIPE_ID_FIELDS:
            if any(f.name == field for f in queryset.model._meta.concrete_fields):
                ids.update(queryset.values_list(field, flat=True))
    return {value for value in ids if value}


def donations_data_export(*, email: str) -> dict[str, Any]:
    """Everything the donations app stores about `email` (JSON-ready)."""
    address = normalise_email(email)
    donor = Donor.objects.filter(email=address).first() if address else None
    reminders = _rows(Reminder.objects.filter(email=address)) if address else []
    if donor is None:
        return {"donor": None, "reminders": reminders}
    payments = Donation.objects.filter(donor=donor)
    recurring = RecurringDonation.objects.filter(donor=donor)
    failures = FailedPayment.objects.filter(recurring__donor=donor)
    ids = _stripe_ids(donor, payments, recurring, failures)
    events = StripeEvent.objects.filter(object_id__in=ids)
    return {
        "donor": row_fields(donor),
        "payments": _rows(payments),
        "recurring_gifts": _rows(recurring),
        "recurring_gift_changes": _rows(RecurringChange.objects.filter(recurring__donor=donor)),
        "failed_renewals": _rows(failures),
        "stripe_events": _rows(events),
        "reminders": reminders,
    }


def _customers_of(donor: Donor) -> set[str]:
    ids = set(donor.recurring.values_list("stripe_customer_id", flat=True))
    ids.add(donor.stripe_customer_id or "")
    return {value for value in ids if value}


def _subscription_end(subscription_id: str) -> None:
    """Cancel in Stripe; one Stripe does not know (never there, or gone) charges nobody."""
    try:
        stripe_client.subscription_cancel(subscription_id)
    except stripe_client.StripeRefused as error:
        if error.code != "resource_missing":
            raise


def donor_stripe_forget(*, donor: Donor) -> list[int]:
    """Cancel the donor's live gifts and delete their customers in Stripe (run first, outside
    any transaction; safe to repeat). Returns the ids of the gifts cancelled."""
    cancelled = []
    live = donor.recurring.exclude(status=RecurringDonation.Status.CANCELLED)
    for recurring in live:
        _subscription_end(recurring.stripe_subscription_id)
        cancelled.append(recurring.pk)
    for customer_id in sorted(_customers_of(donor)):
        stripe_client.customer_delete(customer_id)
    return cancelled


def donor_rows_anonymise(*, donor: Donor, cancelled: list[int]) -> Donor:
    """Our side of the erasure, once Stripe agreed; call inside a transaction."""
    now = timezone.now()
    # FOR NO KEY UPDATE: a payment being recorded for this donor (its foreign key takes KEY
    # SHARE on the donor, while its event holds the gift's lock) is not blocked, so it can
    # commit and free the gift this erasure locks next.
    locked = Donor.objects.select_for_update(no_key=True).get(pk=donor.pk)
    gifts = RecurringDonation.objects.select_for_update().filter(pk__in=cancelled)
    for recurring in gifts.order_by("pk"):
        recurring_status_apply(
            recurring=recurring, status=RecurringDonation.Status.CANCELLED, at=int(time.time())
        )
    if locked.email:
        Reminder.objects.filter(email=locked.email).delete()
    Donation.objects.filter(donor=locked).exclude(source_page="").update(
        source_page="", updated_at=now
    )
    locked.email = None
    locked.name = ""
    locked.erased_at = locked.erased_at or now
    locked.save(update_fields=["email", "name", "erased_at", "updated_at"])
    logger.info("donor erased", extra={"donor": donor.pk, "cancelled": len(cancelled)})
    return locked


def reminders_erase(*, email: str) -> int:
    deleted, _ = Reminder.objects.filter(email=normalise_email(email)).delete()
    return deleted
