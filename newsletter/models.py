"""Subscribers, issues (editions) and their hand-picked items, and the delivery ledger.

The ledger is one `Delivery` row per (issue, subscriber) under a unique constraint: the send
is a state machine over these rows, never a cursor.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from newsroom.models import TimeStampedModel


class Subscriber(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    email = models.EmailField(unique=True, help_text="Normalised: trimmed, domain lower-cased.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(
        max_length=200, blank=True, help_text="Where the address came from: a page or an import."
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_policy_version = models.CharField(max_length=20, blank=True)
    consent_source = models.CharField(
        max_length=200, blank=True, help_text="The page (or import) where consent was given."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="subscriber_status_idx")]

    def __str__(self) -> str:
        return f"Subscriber #{self.pk} ({self.status})"


class Issue(TimeStampedModel):
    """One weekly edition. draft -> scheduled -> sending (<-> paused) -> sent; or cancelled."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    subject = models.CharField(max_length=200)
    preheader = models.CharField(
        max_length=200, blank=True, help_text="The line mail clients show after the subject."
    )
    intro = models.TextField(blank=True, help_text="The editor's introduction (plain text).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    is_sample = models.BooleanField(
        default=False, help_text="Shown as the newsletter preview until an issue has been sent."
    )
    web_slug = models.SlugField(
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text="The web version's address (the send date); set when sending starts.",
    )
    progress_at = models.DateTimeField(
        null=True, blank=True, help_text="When a batch of this issue last finished (the sweeper)."
    )

    class Meta:
        indexes = [models.Index(fields=["status", "scheduled_for"], name="issue_due_idx")]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("newsletter:issue_web", kwargs={"slug": self.web_slug})


class IssueItem(TimeStampedModel):
    class Section(models.TextChoices):
        NEWS = "news", "News"
        FEATURES = "features", "Features"
        ANALYSIS = "analysis", "Analysis"
        OPINION = "opinion", "Opinion"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(max_length=16, choices=Section.choices, default=Section.NEWS)
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500)
    summary = models.TextField(blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Delivery(TimeStampedModel):
    """One message of one issue to one subscriber: queued -> sent | failed; sent -> bounced."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Accepted by the mail server, then reported undeliverable (a hard bounce by mail).
        BOUNCED = "bounced", "Bounced"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, help_text="SMTP reply; never an address.")
    # A worker's claim on a queued row: until `leased_until` no other worker takes it; after
    # it (the worker died) the row is claimable again. `claim` names the batch that holds it.
    leased_until = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"], name="one_delivery_per_subscriber"
            )
        ]
        indexes = [
            models.Index(fields=["issue", "status"], name="delivery_issue_status_idx"),
            # Batches claim queued rows in id order: this index lets that stop early.
            models.Index(
                fields=["issue", "id"],
                condition=models.Q(status="queued"),
                name="delivery_queued_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} ({self.status})"


class SubscriberEvent(TimeStampedModel):
    """A bounce, complaint or unsubscribe: the subscriber's history, and each issue's outcomes.

    `issue` names the message concerned when it is known (with the subscriber it is the
    delivery: one per issue x subscriber): bounces and complaints name it through the bounce
    address or the returned message; an unsubscribe is counted against the last issue sent to
    the subscriber before it. One event per issue, subscriber and kind, so a report received
    twice counts once. (No foreign key to Delivery: it would turn the bulk delete of a
    cancelled send's queued rows into a row-by-row cascade.)
    """

    class Kind(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        SOFT_BOUNCE = "soft_bounce", "Soft bounce"
        COMPLAINT = "complaint", "Spam complaint"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"

    class Source(models.TextChoices):
        MAIL_REPORT = "mail_report", "Report by mail (bounce or complaint)"
        SMTP_REPLY = "smtp_reply", "Mail server's reply during the send"
        PROVIDER = "provider", "Email provider's webhook"
        LINK = "link", "Unsubscribe link"
        MAILTO = "mailto", "Unsubscribe by email"
        STAFF = "staff", "Staff"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="events")
    issue = models.ForeignKey(
        Issue, on_delete=models.SET_NULL, null=True, blank=True, related_name="subscriber_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    suppressed = models.BooleanField(
        default=False, help_text="This event took the address off the list."
    )
    detail = models.CharField(
        max_length=200, blank=True, help_text="Status code and reply; never an address."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber", "kind"],
                condition=models.Q(issue__isnull=False),
                name="one_event_per_delivery_and_kind",
            )
        ]
        indexes = [models.Index(fields=["subscriber", "created_at"], name="event_subscriber_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"


class NoIssueNotice(TimeStampedModel):
    """Staff were told that no issue was ready on this send day: once per send day."""

    send_day = models.DateField(unique=True)

    def __str__(self) -> str:
        return f"No issue ready on {self.send_day}"
