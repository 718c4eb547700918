"""Demo rows for the run command (see newsroom/management/commands/load_demo.py).

25 confirmed subscribers at example.org and one draft issue (the sample shown as the
newsletter preview), with an intro and six items across the sections: staff can preview it,
send a test, and send it; the messages land in the email folder (var/mail/ by default).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from newsletter.models import Issue, IssueItem, Subscriber

DEMO_SUBSCRIBERS = 25
DEMO_SUBJECT = "The week in Freetown: floods, a budget and a poet"
DEMO_ITEMS = [
    (IssueItem.Section.NEWS, "Floods hit the harbour district", "floods",
     "Hundreds of families left their homes overnight as the river rose."),
    (IssueItem.Section.NEWS, "Council approves the new budget by one vote", "budget-vote",
     "What changes for schools and clinics, line by line."),
    (IssueItem.Section.FEATURES, "A poet at the market", "poet",
     "A day with the city's best-known street poet, and the people who stop to listen."),
    (IssueItem.Section.ANALYSIS, "Where the aid money went", "aid-money",
     "Our data desk followed three years of payments from donors to projects."),
    (IssueItem.Section.ANALYSIS, "Why rents doubled in two years", "rents",
     "Land, loans and the new port: the numbers behind the housing squeeze."),
    (IssueItem.Section.OPINION, "The budget fails the poorest", "budget-opinion",
     "An editor's view: the cuts fall where the votes are fewest."),
]  # fmt: skip
DEMO_INTRO = (
    "Good morning,\n\n"
    "This week our reporters waded through the harbour floods, sat through a budget vote "
    "that came down to one councillor, and spent a day at the market with a poet.\n\n"
    "Thank you for reading, and for passing this newsletter on."
)


def load_demo_data() -> None:
    """Idempotent: running it twice changes nothing the second time."""
    now = timezone.now()
    with transaction.atomic():
        Subscriber.objects.bulk_create(
            [
                Subscriber(
                    email=f"reader{n:02d}@example.org",
                    status=Subscriber.Status.ACTIVE,
                    source="demo",
                    consent_at=now,
                    consent_policy_version="demo",
                    consent_source="demo",
                    confirmed_at=now,
                )
                for n in range(1, DEMO_SUBSCRIBERS + 1)
            ],
            ignore_conflicts=True,
        )
        if Issue.objects.filter(is_sample=True).exists():
            return
        issue = Issue.objects.create(
            subject=DEMO_SUBJECT,
            preheader="Floods, a one-vote budget and a day with a street poet",
            intro=DEMO_INTRO,
            is_sample=True,
        )
        IssueItem.objects.bulk_create(
            IssueItem(
                issue=issue,
                section=section,
                title=title,
                url=f"https://news.example.org/2026/11/{slug}/",
                summary=summary,
                position=position,
            )
            for position, (section, title, slug, summary) in enumerate(DEMO_ITEMS)
        )
