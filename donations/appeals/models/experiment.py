"""Experiments: versions of the live appeal, each shown to a share of browsers."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from donations import frequencies
from donations.appeals.models.appeal import Appeal
from newsroom.models import TimeStampedModel


class Experiment(TimeStampedModel):
    """draft -> running -> stopped. One runs at a time, on the live appeal."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="experiments")
    name = models.CharField(max_length=120)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    winner = models.ForeignKey(
        "appeals.Variant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="experiment_one_running"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Variant(TimeStampedModel):
    """A version of the experiment's appeal: blank fields keep the appeal's own words, and a
    variant without amount options of its own offers the appeal's."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=80, help_text="e.g. “A: as live” or “B: shorter letter”.")
    weight = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Share of browsers: this weight over the sum of the experiment's weights.",
    )
    heading = models.CharField(max_length=200, blank=True)
    letter = models.TextField(blank=True)
    sign_off = models.CharField(max_length=200, blank=True)
    headline = models.CharField(
        max_length=200, blank=True, help_text="Blank keeps the appeal's; else include {minimum}."
    )
    default_frequency = models.CharField(
        max_length=frequencies.MAX_LENGTH,
        choices=frequencies.CHOICES,
        blank=True,
        help_text="Blank keeps the appeal's.",
    )

    class Meta:
        ordering = ["experiment", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="variant_weight_positive")
        ]

    def __str__(self) -> str:
        return f"{self.experiment}: {self.name}"
