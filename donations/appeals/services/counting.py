"""Counting an experiment's impressions and checkout starts (fast, in the store), folding
them into the database (a beat task), and counting a completed gift (in the Stripe event's
own transaction). Only variant numbers, days and totals are counted: no browser, address or
donor reaches a counter."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from donations import frequencies
from donations.appeals.models import CountedCheckout, FoldLedger, Variant, VariantDay, VariantGifts
from donations.appeals.store import Batch, store, today
from donations.models import Currency
from donations.stripe_client import CheckoutSession
from newsroom.task_base import task

logger = logging.getLogger(__name__)

METADATA_KEY = "appeal_variant"
LEDGER_DAYS = 7


def count(variant_id: int, metric: str) -> None:
    """An impression or a checkout start for a variant: one Redis round trip."""
    store().count(variant_id, metric, today())


def _apply(batch: Batch) -> bool:
    """Add one batch to `VariantDay` unless it was added before (the ledger row is unique)."""
    try:
        with transaction.atomic():
            FoldLedger.objects.create(key=batch.key)
            if not Variant.objects.filter(pk=batch.variant_id).exists():
                return False  # a deleted variant's late counts
            row, _ = VariantDay.objects.get_or_create(variant_id=batch.variant_id, day=batch.day)
            VariantDay.objects.filter(pk=row.pk).update(
                impressions=F("impressions") + batch.counts["impressions"],
                checkouts=F("checkouts") + batch.counts["checkouts"],
            )
    except IntegrityError:
        return False  # another fold added it; only the Redis side is left to clear
    return True


@task(name="appeals.tasks.fold_counters")
def fold_counters() -> int:
    """Move the store's counts into `VariantDay`, each batch exactly once; returns how many
    batches were added. Safe to run twice at once and after a crash at any point."""
    added = 0
    counter_store = store()
    for batch in counter_store.take():
        added += _apply(batch)
        counter_store.done(batch)
    FoldLedger.objects.filter(created_at__lt=timezone.now() - timedelta(days=LEDGER_DAYS)).delete()
    if added:
        logger.info("appeal counters folded", extra={"batches": added})
    return added


def _checkout_key(session_id: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"appeal-checkout:{session_id}".encode(), hashlib.sha256
    ).hexdigest()


def gift_count_from_session(session: CheckoutSession, *, day: date) -> bool:
    """A paid Checkout Session started from a variant (its metadata says which) counts one
    gift for it, once per session whatever events repeat it. Call inside the event's
    transaction. Returns whether it counted."""
    raw = session.metadata.get(METADATA_KEY, "")
    total = session.amount_total
    if not raw.isdigit() or len(raw) > 11 or total is None:
        return False
    if frequencies.find(session.frequency) is None or total.currency not in Currency.values:
        return False
    if not session.paid:
        return False  # a bank debit still clearing: counted when it succeeds
    if not Variant.objects.filter(pk=int(raw)).exists():
        return False
    try:
        with transaction.atomic():
            CountedCheckout.objects.create(key=_checkout_key(session.id))
    except IntegrityError:
        return False
    row, _ = VariantGifts.objects.get_or_create(
        variant_id=int(raw), day=day, frequency=session.frequency, currency=total.currency
    )
    VariantGifts.objects.filter(pk=row.pk).update(
        gifts=F("gifts") + 1, amount=F("amount") + total.amount
    )
    logger.info("appeal gift counted", extra={"variant": int(raw), "frequency": session.frequency})
    return True
