"""Bounces and complaints about one delivery (issue x subscriber): what they do, once.

* A hard bounce (the address does not exist): the delivery becomes `bounced` if the server had
  accepted it, and the subscriber `bounced`: no later issue goes there.
* A soft bounce (mailbox full, greylisting that gave up, a block...) is counted; when the last
  `BOUNCE_SOFT_LIMIT` messages sent to the subscriber all bounced, the address is `bounced`.
* A complaint (an ARF report from a mailbox provider's feedback loop): the subscriber
  `complained`, which takes them off the list like an unsubscribe.

For bounces and complaints received by mail and the mail server's reply during the send; the
ESP webhook rules stay in `subscribers.subscriber_record_tracking_event`. Each call locks the
subscriber's row and records at most one event per issue and kind, so a report received twice
changes nothing the second time. No address is logged.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.models import Delivery, Subscriber, SubscriberEvent
from newsletter.services.suppression import ACCEPTED, event_record, subscriber_suppress

logger = logging.getLogger(__name__)

Kind = SubscriberEvent.Kind
Source = SubscriberEvent.Source
BOUNCE_KINDS = (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE)


class Outcome(enum.StrEnum):
    SUPPRESSED = "suppressed"  # recorded, and the address is off the list now
    COUNTED = "counted"  # recorded; the address stays (a soft bounce below the limit)
    ALREADY_RECORDED = "already_recorded"  # the same report again: nothing changed
    UNKNOWN = "unknown"  # no such delivery (erased, or never sent): nothing changed


def delivery_bounce_record(
    *,
    issue_id: int,
    subscriber_id: int,
    hard: bool,
    detail: str,
    source: str = Source.MAIL_REPORT,
    now: datetime | None = None,
) -> Outcome:
    """A bounce of the message `issue_id` sent to `subscriber_id` (see the module docstring)."""
    now = now or timezone.now()
    kind = Kind.HARD_BOUNCE if hard else Kind.SOFT_BOUNCE
    with transaction.atomic():
        if not _lock(subscriber_id) or not _delivered(issue_id, subscriber_id):
            return _log(Outcome.UNKNOWN, kind, issue_id, subscriber_id)
        if _already(issue_id, subscriber_id, kind):
            return _log(Outcome.ALREADY_RECORDED, kind, issue_id, subscriber_id)
        if hard:
            Delivery.objects.filter(
                issue_id=issue_id, subscriber_id=subscriber_id, status=Delivery.Status.SENT
            ).update(status=Delivery.Status.BOUNCED, updated_at=now)
        # The event first: the soft-bounce streak below counts it.
        event_record(
            subscriber_id=subscriber_id, kind=kind, source=source, issue_id=issue_id,
            suppressed=False, detail=detail,
        )  # fmt: skip
        suppress = hard or _soft_streak(subscriber_id)
        changed = suppress and subscriber_suppress(
            subscriber_id=subscriber_id, status=Subscriber.Status.BOUNCED, now=now
        )
        if changed:
            SubscriberEvent.objects.filter(
                subscriber_id=subscriber_id, issue_id=issue_id, kind=kind
            ).update(suppressed=True)
    return _log(Outcome.SUPPRESSED if suppress else Outcome.COUNTED, kind, issue_id, subscriber_id)


def delivery_complaint_record(
    *,
    subscriber_id: int,
    issue_id: int | None,
    detail: str,
    source: str = Source.MAIL_REPORT,
    now: datetime | None = None,
) -> Outcome:
    """A spam complaint about the message `issue_id` (None: the report did not say which)."""
    now = now or timezone.now()
    kind = Kind.COMPLAINT
    with transaction.atomic():
        if not _lock(subscriber_id) or (
            issue_id is not None and not _delivered(issue_id, subscriber_id)
        ):
            return _log(Outcome.UNKNOWN, kind, issue_id, subscriber_id)
        if issue_id is not None and _already(issue_id, subscriber_id, kind):
            return _log(Outcome.ALREADY_RECORDED, kind, issue_id, subscriber_id)
        changed = subscriber_suppress(
            subscriber_id=subscriber_id, status=Subscriber.Status.COMPLAINED, now=now
        )
        if issue_id is None and not changed:
            return _log(Outcome.ALREADY_RECORDED, kind, issue_id, subscriber_id)
        event_record(
            subscriber_id=subscriber_id, kind=kind, source=source, issue_id=issue_id,
            suppressed=changed, detail=detail,
        )  # fmt: skip
    return _log(Outcome.SUPPRESSED, kind, issue_id, subscriber_id)


def bounce_report_apply(
    *,
    kind: str,
    detail: str,
    delivery_id: int | None = None,
    subscriber_id: int | None = None,
    issue_id: int | None = None,
) -> Outcome:
    """A report read from mail (see `newsletter.bounces.intake`): `delivery_id` from a bounce
    address, or the subscriber and maybe the issue from a returned message's unsubscribe
    link. `kind` is "hard_bounce", "soft_bounce" or "complaint"."""
    if delivery_id is not None:
        row = (
            Delivery.objects.filter(pk=delivery_id).values_list("issue_id", "subscriber_id").first()
        )
        if row is None:  # erased, or a cancelled send's row
            return Outcome.UNKNOWN
        issue_id, subscriber_id = row
    if subscriber_id is None:
        return Outcome.UNKNOWN
    if kind == Kind.COMPLAINT:
        return delivery_complaint_record(
            subscriber_id=subscriber_id, issue_id=issue_id, detail=detail
        )
    if kind in BOUNCE_KINDS and issue_id is not None:
        return delivery_bounce_record(
            issue_id=issue_id, subscriber_id=subscriber_id, hard=kind == Kind.HARD_BOUNCE,
            detail=detail,
        )  # fmt: skip
    return _log(Outcome.UNKNOWN, kind, issue_id, subscriber_id)


def delivery_refused_record(*, delivery_id: int, detail: str) -> Outcome:
    """The recipient's server refused the message during the send (550, 551, 553 for the
    recipient): a hard bounce, recorded against the delivery's issue."""
    row = Delivery.objects.filter(pk=delivery_id).values_list("issue_id", "subscriber_id").first()
    if row is None:
        return Outcome.UNKNOWN
    return delivery_bounce_record(
        issue_id=row[0], subscriber_id=row[1], hard=True, detail=detail, source=Source.SMTP_REPLY
    )


def soft_bounce_streak(subscriber_id: int) -> int:
    """How many of the messages last sent to the subscriber bounced, newest first, in a row."""
    recent = _recent_issues(subscriber_id, settings.BOUNCE_SOFT_LIMIT)
    bounced = _bounced_issues(subscriber_id, recent)
    streak = 0
    for issue_id in recent:
        if issue_id not in bounced:
            break
        streak += 1
    return streak


def _soft_streak(subscriber_id: int) -> bool:
    limit = settings.BOUNCE_SOFT_LIMIT
    return limit > 0 and soft_bounce_streak(subscriber_id) >= limit


def _recent_issues(subscriber_id: int, limit: int) -> list[int]:
    return list(
        Delivery.objects.filter(subscriber_id=subscriber_id, status__in=ACCEPTED)
        .order_by("-sent_at", "-id")
        .values_list("issue_id", flat=True)[: max(limit, 0)]
    )


def _bounced_issues(subscriber_id: int, issue_ids: list[int]) -> set[int]:
    return set(
        SubscriberEvent.objects.filter(
            subscriber_id=subscriber_id, issue_id__in=issue_ids, kind__in=BOUNCE_KINDS
        ).values_list("issue_id", flat=True)
    )


def _lock(subscriber_id: int) -> bool:
    """Lock the subscriber's row (reports about one person are applied one at a time)."""
    rows = Subscriber.objects.select_for_update().filter(pk=subscriber_id)
    return bool(list(rows.values_list("pk", flat=True)))


def _delivered(issue_id: int, subscriber_id: int) -> bool:
    """The message was handed to the mail server (a failed send may have been refused by the
    recipient's server: the SMTP reply during the send counts as a bounce too)."""
    return Delivery.objects.filter(
        issue_id=issue_id,
        subscriber_id=subscriber_id,
        status__in=(*ACCEPTED, Delivery.Status.FAILED),
    ).exists()


def _already(issue_id: int, subscriber_id: int, kind: str) -> bool:
    return SubscriberEvent.objects.filter(
        issue_id=issue_id, subscriber_id=subscriber_id, kind=kind
    ).exists()


def _log(outcome: Outcome, kind: str, issue_id: int | None, subscriber_id: int) -> Outcome:
    logger.info(
        "newsletter.bounce.recorded",
        extra={
            "outcome": str(outcome), "kind": str(kind), "issue_id": issue_id,
            "subscriber_id": subscriber_id,
        },
    )  # fmt: skip
    return outcome
