"""Aggregate counts per variant and day. No row names a browser, a reader or a donor.

Impressions and checkout starts are counted in Redis on the request path and folded in here
by a beat task; each fold is applied once (`FoldLedger`). A completed gift is counted in the
same transaction as the Stripe event that reports it, once per checkout (`CountedCheckout`
keeps a keyed hash of the session id, never the id, and nothing about who paid).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from donations import frequencies
from donations.appeals.models.experiment import Variant
from donations.models import Currency


class VariantDay(models.Model):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    impressions = models.PositiveBigIntegerField(default=0)
    checkouts = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "day"], name="variant_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.day}"


class VariantGifts(models.Model):
    """Completed gifts and their amounts, per variant, day, frequency and currency."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="gifts")
    day = models.DateField()
    frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    gifts = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "day", "frequency", "currency"], name="variant_gifts_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.day} {self.frequency} {self.currency}"


class CountedCheckout(models.Model):
    """A checkout whose gift was counted: a keyed hash of its session id (so a replayed or
    second event for the same payment is not counted again)."""

    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key[:12]


class FoldLedger(models.Model):
    """A batch of Redis counts already added to `VariantDay` (its Redis key, which holds a
    random token): a fold that crashed before deleting it, or a second fold running at the
    same time, finds the row and adds nothing."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key
