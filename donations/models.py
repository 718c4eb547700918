"""Donors, their gifts (one row per payment), disputes, recurring gifts, Stripe events, reminders.

Amounts are `Decimal` in the currency's major unit plus an ISO currency code; minor units exist
only at the Stripe boundary (`donations/stripe_client/`). Frequencies (choices, column width,
display words) come from `donations/frequencies.py`. A payment is unique on each of its
Stripe ids (checkout session, invoice, payment intent), so no event, however often re-sent or
re-ordered, can record it twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from donations import frequencies
from newsroom.models import TimeStampedModel


class Currency(models.TextChoices):
    USD = "usd", "USD"
    EUR = "eur", "EUR"
    GBP = "gbp", "GBP"


CURRENCY_SYMBOLS = {Currency.USD: "$", Currency.EUR: "€", Currency.GBP: "£"}


class FrequencyWords:
    """How a row's `frequency` reads, from the frequencies table (for emails and pages)."""

    frequency: str

    @property
    def frequency_label(self) -> str:
        """The table's label: "Monthly"."""
        return frequencies.get(self.frequency).label

    @property
    def gift_words(self) -> str:
        """The table's words for the gift: "monthly gift"."""
        return frequencies.get(self.frequency).gift_words


class Donor(TimeStampedModel):
    """Who gives. Erased at their request: email and name gone (the address is remembered only
    as a keyed hash, `newsroom.erased`), Stripe customer id kept so a late event for that
    customer finds this anonymous row instead of creating a donor with the address again."""

    email = models.EmailField(
        unique=True, null=True, blank=True, help_text="Normalised: trimmed and lower-cased."
    )
    name = models.CharField(max_length=200, blank=True)
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Donor #{self.pk}"


class RecurringDonation(FrequencyWords, TimeStampedModel):
    """A recurring gift (monthly, annual, ...): one Stripe subscription."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELLED = "cancelled", "Cancelled"

    donor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="recurring", null=True, blank=True
    )
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    started_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    status_changed_by_event_at = models.BigIntegerField(
        default=0, help_text="`created` of the Stripe event that last set the status."
    )
    next_charge_at = models.DateTimeField(
        null=True, blank=True, help_text="The end of the current period, from Stripe's events."
    )
    paused = models.BooleanField(default=False, help_text="Collection paused: no charges.")
    terms_changed_by_event_at = models.BigIntegerField(
        default=0,
        help_text="When Stripe last set amount, frequency, next charge and pause (an event's "
        "`created`, or the time of our own change that Stripe answered).",
    )

    class Meta:
        verbose_name = "recurring gift"
        indexes = [models.Index(fields=["status", "frequency"], name="recurring_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} gift #{self.pk} ({self.status})"


class RecurringChange(TimeStampedModel):
    """A change the donor (or staff) made to a recurring gift, as Stripe accepted it: shown on
    the donor's page and in the admin, and confirmed to the donor by one email."""

    class Kind(models.TextChoices):
        TERMS = "terms", "Amount or frequency changed"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        CANCEL = "cancel", "Cancelled"

    class By(models.TextChoices):
        DONOR = "donor", "The donor"
        STAFF = "staff", "Staff"

    recurring = models.ForeignKey(
        RecurringDonation, on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    by = models.CharField(max_length=8, choices=By.choices, default=By.DONOR)
    old_amount = models.DecimalField(max_digits=12, decimal_places=2)
    new_amount = models.DecimalField(max_digits=12, decimal_places=2)
    old_frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    new_frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(
        max_length=80, unique=True, help_text="The confirmed form's key: a double submit is one."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "recurring gift change"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (gift #{self.recurring_id})"


class Donation(FrequencyWords, TimeStampedModel):
    """One payment: a one-off gift, or the first or a renewal payment of a recurring gift."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    donor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="donations", null=True, blank=True
    )
    recurring = models.ForeignKey(
        RecurringDonation,
        on_delete=models.PROTECT,
        related_name="payments",
        null=True,
        blank=True,
    )
    frequency = models.CharField(max_length=frequencies.MAX_LENGTH, choices=frequencies.CHOICES)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    paid_at = models.DateTimeField(null=True, blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    source_page = models.CharField(max_length=200, blank=True)
    stripe_checkout_session_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True
    )
    stripe_invoice_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    is_first_payment = models.BooleanField(
        default=False,
        help_text="The checkout payment of a recurring gift (its first invoice is the same gift).",
    )
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    dispute_notice_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff were told of a dispute on this payment."
    )

    class Meta:
        verbose_name = "payment"
        indexes = [models.Index(fields=["status", "paid_at"], name="donation_paid_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring"],
                condition=models.Q(is_first_payment=True),
                name="donation_one_first_payment_per_gift",
            )
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk} {self.amount} {self.currency.upper()} ({self.status})"


class Dispute(TimeStampedModel):
    """A Stripe dispute on a payment (a chargeback, or an inquiry that may become one), as
    Stripe's latest event about it says. Open, its amount is counted apart from revenue; won
    (or an inquiry closed, or prevented) it is revenue again; lost, it is subtracted."""

    class Outcome(models.TextChoices):
        OPEN = "open", "Open (counted apart)"
        WON = "won", "Won (revenue again)"
        LOST = "lost", "Lost (subtracted)"

    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    stripe_status = models.CharField(max_length=40, help_text="Stripe's word: needs_response, ...")
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by_event_at = models.BigIntegerField(
        default=0, help_text="`created` of the Stripe event that last set the status."
    )

    class Meta:
        indexes = [models.Index(fields=["outcome"], name="dispute_outcome_idx")]

    def __str__(self) -> str:
        return f"Dispute on payment #{self.donation_id} ({self.outcome})"


class FailedPayment(TimeStampedModel):
    """A failed renewal invoice; the donor gets one "fix your card" email for it."""

    recurring = models.ForeignKey(
        RecurringDonation, on_delete=models.CASCADE, related_name="failures"
    )
    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "failed renewal"

    def __str__(self) -> str:
        return f"Failed renewal {self.stripe_invoice_id}"


class StripeEvent(TimeStampedModel):
    """Each Stripe event once, recorded in the same transaction as its effects.

    Only what identifies the event is kept, not its payload (which names the donor).
    """

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=255, blank=True)
    stripe_created = models.BigIntegerField()
    livemode = models.BooleanField(default=False)
    handled = models.BooleanField(default=False, help_text="False for types we ignore.")

    class Meta:
        verbose_name = "Stripe event"

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class Reminder(TimeStampedModel):
    """A reader asked to be reminded to support later: one email when due, then done."""

    email = models.EmailField()
    asked_at = models.DateTimeField(
        default=timezone.now, help_text="When the reader last asked (a gift since skips it)."
    )
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    skipped_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent: the address gave after asking."
    )

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="reminder_due_idx")]

    def __str__(self) -> str:
        return f"Reminder #{self.pk}"
