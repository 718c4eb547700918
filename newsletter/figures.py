"""Staff's figures: what became of an issue's messages after they were sent, and why a
subscriber left the list. Reads only; three queries per issue, one per subscriber history."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.models import Count

from newsletter.models import Delivery, SubscriberEvent

Kind = SubscriberEvent.Kind


@dataclass(frozen=True)
class IssueOutcomes:
    accepted: int  # handed to the receiving mail server (or the ESP)
    delivered: int  # accepted, and no bounce reported since
    soft_bounced: int
    hard_bounced: int  # reported by mail, or refused with 550/551/553 during the send
    complaints: int
    unsubscribes: int  # left after this issue, before another reached them
    not_sent: int  # refused or failed during the send, or skipped

    def as_rows(self) -> list[tuple[str, int]]:
        labels = {
            "accepted": "Accepted by the mail servers",
            "delivered": "Delivered (no bounce reported)",
            "soft_bounced": "Soft bounces",
            "hard_bounced": "Hard bounces",
            "complaints": "Spam complaints",
            "unsubscribes": "Unsubscribed after this issue",
            "not_sent": "Not sent (refused, failed or skipped)",
        }
        return [(labels[name], value) for name, value in asdict(self).items()]


def issue_outcomes(issue_id: int) -> IssueOutcomes:
    statuses = dict(
        Delivery.objects.filter(issue_id=issue_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    events = dict(
        SubscriberEvent.objects.filter(issue_id=issue_id)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    soft_after_sent = Delivery.objects.filter(
        issue_id=issue_id,
        status=Delivery.Status.SENT,
        subscriber__events__issue_id=issue_id,
        subscriber__events__kind=Kind.SOFT_BOUNCE,
    ).count()
    sent = statuses.get(Delivery.Status.SENT, 0)
    return IssueOutcomes(
        accepted=sent + statuses.get(Delivery.Status.BOUNCED, 0),
        delivered=sent - soft_after_sent,
        soft_bounced=events.get(Kind.SOFT_BOUNCE, 0),
        hard_bounced=events.get(Kind.HARD_BOUNCE, 0),
        complaints=events.get(Kind.COMPLAINT, 0),
        unsubscribes=events.get(Kind.UNSUBSCRIBE, 0),
        not_sent=statuses.get(Delivery.Status.FAILED, 0),
    )
