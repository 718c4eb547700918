"""Claiming, leasing and marking delivery rows: the ledger's SQL, a constant number per batch.

A claim is short: one transaction locks a batch of due, queued, unleased rows with
`SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer and takes a plain
select), stamps them with a lease (`leased_until`, `claim`) and commits. Sending happens after
the commit, outside any transaction, so each mark is durable the moment it returns. A worker
that dies leaves its rows leased; when the lease expires they are claimable again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from newsletter.models import Delivery, Issue, Subscriber


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    subscriber_id: int
    email: str
    subscriber_status: str
    attempts: int

    @property
    def active(self) -> bool:
        return self.subscriber_status == Subscriber.Status.ACTIVE


def claim_batch(
    *, issue_id: int, size: int, lease_seconds: float, now: datetime
) -> tuple[uuid.UUID, list[Claimed]]:
    """Lease up to `size` due queued deliveries with their subscribers (one locked select)."""
    claim = uuid.uuid4()
    with transaction.atomic():
        rows = list(
            Delivery.objects.filter(issue_id=issue_id, status=Delivery.Status.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
            .order_by("id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(
                "id", "subscriber_id", "subscriber__email", "subscriber__status", "attempts"
            )[:size]
        )
        if rows:
            Delivery.objects.filter(id__in=[row[0] for row in rows]).update(
                leased_until=now + timedelta(seconds=lease_seconds), claim=claim
            )
    return claim, [Claimed(*row) for row in rows]


def _mine(delivery_id: int, claim: uuid.UUID) -> QuerySet[Delivery]:
    return Delivery.objects.filter(pk=delivery_id, claim=claim, status=Delivery.Status.QUEUED)


def mark_sent(*, delivery_id: int, claim: uuid.UUID, now: datetime) -> str | None:
    """One UPDATE, committed at once (autocommit): the server accepted this message.

    Returns the issue's status read in the same statement (so a pause or cancel stops the batch
    after this message at no extra query), or None if the row is no longer this claim's (the
    send was cancelled and its queued rows dropped). Raw SQL: this is the one per-message query
    of the send, so it skips the ORM's compiler.
    """
    table = Delivery._meta.db_table
    issues = Issue._meta.db_table
    claim_value = Delivery._meta.get_field("claim").get_db_prep_value(claim, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, updated_at = %s, "  # noqa: S608
            "attempts = attempts + 1, leased_until = NULL, claim = NULL, error = '' "
            "WHERE id = %s AND claim = %s AND status = %s "
            f"RETURNING (SELECT status FROM {issues} WHERE {issues}.id = {table}.issue_id)",
            [Delivery.Status.SENT, now, now, delivery_id, claim_value, Delivery.Status.QUEUED],
        )
        row = cursor.fetchone()
    return str(row[0]) if row else None


def mark_deferred(
    *, delivery_id: int, claim: uuid.UUID, now: datetime, retry_at: datetime, error: str
) -> bool:
    """A temporary error: queued again, tried after `retry_at`."""
    return bool(
        _mine(delivery_id, claim).update(
            attempts=F("attempts") + 1,
            next_attempt_at=retry_at,
            updated_at=now,
            leased_until=None,
            claim=None,
            error=error[:200],
        )
    )


def mark_failed(*, delivery_id: int, claim: uuid.UUID, now: datetime, error: str) -> bool:
    return bool(
        _mine(delivery_id, claim).update(
            status=Delivery.Status.FAILED,
            attempts=F("attempts") + 1,
            updated_at=now,
            leased_until=None,
            claim=None,
            error=error[:200],
        )
    )


def skip_inactive(*, delivery_ids: list[int], claim: uuid.UUID, now: datetime) -> int:
    """Subscribers who left (or bounced) after the send started get nothing: one UPDATE."""
    if not delivery_ids:
        return 0
    return Delivery.objects.filter(id__in=delivery_ids, claim=claim).update(
        status=Delivery.Status.FAILED,
        updated_at=now,
        leased_until=None,
        claim=None,
        error="Not sent: the subscriber is no longer active.",
    )


def release(*, delivery_ids: list[int], claim: uuid.UUID) -> int:
    """Give back rows this batch did not get to: claimable again at once. One UPDATE."""
    if not delivery_ids:
        return 0
    return Delivery.objects.filter(
        id__in=delivery_ids, claim=claim, status=Delivery.Status.QUEUED
    ).update(leased_until=None, claim=None)


def suppress_bounced(*, subscriber_id: int, now: datetime) -> None:
    """A hard bounce (the address does not exist): never mail it again."""
    Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.ACTIVE).update(
        status=Subscriber.Status.BOUNCED, updated_at=now
    )
