"""The appeal: its words, and the amounts it offers per currency and frequency."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from donations import frequencies
from donations.models import Currency
from newsroom.models import TimeStampedModel

MINIMUM_PLACEHOLDER = "{minimum}"


def preselected_frequency() -> str:
    """The frequencies table's preselected row (monthly)."""
    return frequencies.preselected().value


class Appeal(TimeStampedModel):
    """One appeal is live at a time; the others are drafts or earlier versions kept for the
    record. The headline's amount is never typed: `{minimum}` becomes the monthly minimum in
    the reader's currency."""

    name = models.CharField(max_length=120, help_text="For staff only.")
    is_live = models.BooleanField(default=False, editable=False)
    show_banner = models.BooleanField(
        "show the banner",
        default=True,
        help_text="Untick to hide the support banner site-wide (the /support/ page stays).",
    )
    heading = models.CharField(max_length=200)
    letter = models.TextField(
        help_text="Paragraphs (a blank line between them), <strong>bold</strong> and "
        '<a href="https://...">links</a>; anything else is removed.'
    )
    sign_off = models.CharField(max_length=200, blank=True)
    headline = models.CharField(
        max_length=200,
        help_text="Must contain {minimum}: it shows the monthly minimum in the reader's "
        "currency, e.g. “Support us monthly starting from just {minimum}”.",
    )
    default_frequency = models.CharField(
        max_length=frequencies.MAX_LENGTH,
        choices=frequencies.CHOICES,
        default=preselected_frequency,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_live"], condition=Q(is_live=True), name="appeal_one_live"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (live)" if self.is_live else self.name


class AmountOption(TimeStampedModel):
    """A suggested amount, per frequency and currency, of an appeal or of one variant."""

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="options", null=True, blank=True
    )
    variant = models.ForeignKey(
        "appeals.Variant",
        on_delete=models.CASCADE,
        related_name="options",
        null=True,
        blank=True,
    )
    frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    amount = models.DecimalField(
        max_digits=9, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    is_default = models.BooleanField(default=False, help_text="Preselected when the form opens.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["frequency", "currency", "position", "amount"]
        constraints = [
            models.CheckConstraint(
                condition=Q(appeal__isnull=True, variant__isnull=False)
                | Q(appeal__isnull=False, variant__isnull=True),
                name="option_of_appeal_or_variant",
            ),
            models.UniqueConstraint(
                fields=["appeal", "frequency", "currency", "amount"],
                name="option_unique_per_appeal",
            ),
            models.UniqueConstraint(
                fields=["variant", "frequency", "currency", "amount"],
                name="option_unique_per_variant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} {self.amount} {self.currency.upper()}"


class AmountLimit(TimeStampedModel):
    """The smallest and the largest gift the form takes, per currency and frequency."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="limits")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    minimum = models.DecimalField(
        max_digits=9, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    maximum = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(0.01)]
    )

    class Meta:
        ordering = ["currency", "frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal", "currency", "frequency"], name="limit_unique_per_appeal"
            ),
            models.CheckConstraint(
                condition=Q(minimum__gt=0) & Q(maximum__gte=models.F("minimum")),
                name="limit_minimum_below_maximum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} {self.currency.upper()}"
