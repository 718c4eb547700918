"""Factories for newsletter rows; shared by the subscribers and sending tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from newsletter.models import Issue, IssueItem, Subscriber


class SubscriberFactory(factory.django.DjangoModelFactory[Subscriber]):
    """An active (confirmed) subscriber with consent recorded; pass status= for others."""

    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    status = Subscriber.Status.ACTIVE
    source = "/"
    consent_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    consent_policy_version = "2026-11"
    consent_source = "/"
    confirmation_sent_at = factory.LazyAttribute(lambda o: o.consent_at)
    confirmed_at = factory.LazyAttribute(
        lambda o: o.consent_at if o.status == Subscriber.Status.ACTIVE else None
    )


class IssueFactory(factory.django.DjangoModelFactory[Issue]):
    """A draft issue; `IssueFactory(sent=True)` makes a sent one with its web slug."""

    class Meta:
        model = Issue

    class Params:
        sent = factory.Trait(
            status=Issue.Status.SENT,
            send_started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5)),
            sent_at=factory.LazyFunction(timezone.now),
            web_slug=factory.Sequence(lambda n: f"2026-11-{n % 28 + 1:02d}-{n}"),
        )

    subject = factory.Sequence(lambda n: f"This week at the Ledger, no. {n}")
    preheader = "Courts, rivers and the reporters who cover them"
    intro = "Good morning. Here is what our reporters found this week."
    status = Issue.Status.DRAFT


class IssueItemFactory(factory.django.DjangoModelFactory[IssueItem]):
    class Meta:
        model = IssueItem

    issue = factory.SubFactory(IssueFactory)
    section = IssueItem.Section.NEWS
    title = factory.Sequence(lambda n: f"Story number {n}")
    url = factory.Sequence(lambda n: f"https://news.example.org/stories/{n}/")
    summary = "What happened, and why it matters."
    position = factory.Sequence(lambda n: n)
