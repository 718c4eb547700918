"""An experiment's figures per variant: impressions, checkout starts, completed gifts,
conversion (gifts per impression) with a 95% Wilson interval, revenue by frequency and
currency, monthly recurring revenue, and the cumulative conversion per day for the chart."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from donations import frequencies
from donations.appeals.models import Experiment, Variant, VariantDay, VariantGifts

Z95 = 1.959963984540054  # two-sided 95%


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (as fractions; (0, 0) without trials)."""
    if trials <= 0:
        return 0.0, 0.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class VariantFigures:
    variant: Variant
    impressions: int = 0
    checkouts: int = 0
    gifts: int = 0
    revenue: list[dict[str, object]] = field(default_factory=list)  # frequency, currency, ...
    recurring: dict[str, Decimal] = field(default_factory=dict)  # currency -> per month
    daily: dict[date, tuple[int, int]] = field(default_factory=dict)  # day -> (impr., gifts)

    @property
    def conversion(self) -> float:
        return self.gifts / self.impressions if self.impressions else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.gifts, self.impressions)

    @property
    def conversion_percent(self) -> str:
        return f"{100 * self.conversion:.2f}%"

    @property
    def interval_percent(self) -> str:
        low, high = self.interval
        return f"{100 * low:.2f}% \u2013 {100 * high:.2f}%"


def experiment_figures(experiment: Experiment) -> list[VariantFigures]:
    """Three queries, whatever the number of days."""
    found = {v.pk: VariantFigures(v) for v in experiment.variants.all()}
    days = VariantDay.objects.filter(variant__in=found).values("variant", "day")
    for day in days.annotate(i=Sum("impressions"), c=Sum("checkouts")):
        figures = found[day["variant"]]
        figures.impressions += day["i"]
        figures.checkouts += day["c"]
        figures.daily[day["day"]] = (day["i"], figures.daily.get(day["day"], (0, 0))[1])
    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    amounts: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    for row in VariantGifts.objects.filter(variant__in=found):
        figures = found[row.variant_id]
        figures.gifts += row.gifts
        shown, given = figures.daily.get(row.day, (0, 0))
        figures.daily[row.day] = (shown, given + row.gifts)
        counts[(row.variant_id, row.frequency, row.currency)] += row.gifts
        amounts[(row.variant_id, row.frequency, row.currency)] += row.amount
    for (variant_id, frequency, currency), amount in sorted(amounts.items()):
        figures = found[variant_id]
        figures.revenue.append({
            "frequency": frequency, "currency": currency, "amount": amount,
            "gifts": counts[(variant_id, frequency, currency)],
        })  # fmt: skip
        table_row = frequencies.find(frequency)
        if table_row is not None and table_row.months is not None:  # recurring: per month
            per_month = (amount / table_row.months).quantize(Decimal("0.01"))
            figures.recurring[currency] = figures.recurring.get(currency, Decimal(0)) + per_month
    return list(found.values())


def leader(figures: list[VariantFigures]) -> Variant | None:
    """The variant whose conversion is highest at the low end of its 95% interval (the one we
    are most sure converts well); None before any impression."""
    seen = [f for f in figures if f.impressions]
    if not seen:
        return None
    return max(seen, key=lambda f: (f.interval[0], f.conversion, f.gifts)).variant


def days_between(figures: list[VariantFigures]) -> list[date]:
    days = [day for f in figures for day in f.daily]
    if not days:
        return []
    first, last = min(days), max(days)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
