"""Taking an address off the list, and the record of why (`SubscriberEvent`).

Shared by every way out: the unsubscribe link, staff, an ESP's webhook, a bounce or complaint
received by mail, the mail server's reply during the send. A weaker status never replaces a
stronger one (complained > bounced > unsubscribed > on the list), so replays and reports that
arrive out of order change nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Subquery

from newsletter.models import Delivery, Subscriber, SubscriberEvent

STATUS_STRENGTH = {
    Subscriber.Status.PENDING: 0,
    Subscriber.Status.ACTIVE: 0,
    Subscriber.Status.UNSUBSCRIBED: 1,
    Subscriber.Status.BOUNCED: 2,
    Subscriber.Status.COMPLAINED: 3,
}
# Deliveries the server accepted: the messages a bounce or an unsubscribe can follow.
ACCEPTED = (Delivery.Status.SENT, Delivery.Status.BOUNCED)


def subscriber_suppress(*, subscriber_id: int, status: str, now: datetime) -> bool:
    """One UPDATE: move the subscriber to `status` unless an equal or stronger one holds.

    True if the status changed. An unsubscribe also stamps `unsubscribed_at`.
    """
    floor = STATUS_STRENGTH[Subscriber.Status(status)]
    weaker = [value for value, strength in STATUS_STRENGTH.items() if strength < floor]
    updates: dict[str, object] = {"status": status, "updated_at": now}
    if status == Subscriber.Status.UNSUBSCRIBED:
        updates["unsubscribed_at"] = now
    return Subscriber.objects.filter(pk=subscriber_id, status__in=weaker).update(**updates) == 1


def event_record(
    *,
    subscriber_id: int,
    kind: str,
    source: str,
    issue_id: int | None,
    suppressed: bool,
    detail: str = "",
) -> bool:
    """Add one line to the subscriber's history; False if this issue's event of this kind is
    already there (the same report twice). Callers hold the subscriber's row lock, or accept
    that a simultaneous duplicate is refused by the unique constraint."""
    if (
        issue_id is not None
        and SubscriberEvent.objects.filter(
            subscriber_id=subscriber_id, issue_id=issue_id, kind=kind
        ).exists()
    ):
        return False
    SubscriberEvent.objects.create(
        subscriber_id=subscriber_id,
        issue_id=issue_id,
        kind=kind,
        source=source,
        suppressed=suppressed,
        detail=detail[:200],
    )
    return True


def unsubscribe_events_record(*, subscriber_ids: list[int], source: str, now: datetime) -> None:
    """Record that these subscribers left, each counted against the last issue sent to them
    before `now`: two queries however many there are (staff may unsubscribe thousands)."""
    last_issue = Subquery(
        Delivery.objects.filter(subscriber=OuterRef("pk"), status__in=ACCEPTED, sent_at__lte=now)
        .order_by("-sent_at", "-id")
        .values("issue_id")[:1]
    )
    rows = (
        Subscriber.objects.filter(pk__in=subscriber_ids)
        .annotate(last_issue=last_issue)
        .values_list("pk", "last_issue")
    )
    SubscriberEvent.objects.bulk_create(
        [
            SubscriberEvent(
                subscriber_id=subscriber_id,
                issue_id=issue_id,
                kind=SubscriberEvent.Kind.UNSUBSCRIBE,
                source=source,
                suppressed=True,
            )
            for subscriber_id, issue_id in rows
        ],
        ignore_conflicts=True,  # left after this issue once already (signed up and left again)
        batch_size=1000,
    )
