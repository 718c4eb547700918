"""Build a running experiment on the live appeal, as staff would (through the services)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from donations.appeals.models import AmountOption, Appeal, Experiment, Variant
from donations.appeals.services.appeals import experiment_start


def running_experiment(
    *variants: dict[str, Any], name: str = "Letter test"
) -> tuple[Experiment, list[Variant]]:
    """Each dict: Variant fields (name, weight, heading, ...) and optional `options`, a list
    of (frequency, currency, amount, is_default)."""
    appeal = Appeal.objects.get(is_live=True)
    experiment = Experiment.objects.create(appeal=appeal, name=name)
    made = []
    for fields in variants:
        options = fields.pop("options", [])
        variant = Variant.objects.create(experiment=experiment, **fields)
        for position, (frequency, currency, amount, is_default) in enumerate(options):
            AmountOption.objects.create(
                variant=variant, frequency=frequency, currency=currency, amount=Decimal(amount),
                is_default=is_default, position=position,
            )  # fmt: skip
        made.append(variant)
    experiment_start(experiment=experiment)
    return experiment, made


def two_variants() -> tuple[Experiment, list[Variant]]:
    return running_experiment(
        {"name": "A: as live", "weight": 1},
        {"name": "B: short letter", "weight": 1, "heading": "Ten seconds of your time",
         "letter": "We are <strong>small</strong>. Your gift keeps us here.",
         "options": [("monthly", "usd", "4", True), ("monthly", "usd", "8", False)]},
    )  # fmt: skip
