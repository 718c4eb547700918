"""A lane's stream of batches: the next batch is claimed while the current one drains, so the
sender threads never wait for the lane's database work between batches.

At most `Transport.open_batches` batches are open at once (two; more for provider batch
calls, where one batch may be one call). Each is held under its own lease, renewed by a
heartbeat (`LeaseKeeper`); the sender threads hand messages over only while every open lease
is safely alive. A batch is let go (`claims.close`) once all its units have reported and their
marks have committed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from donations.selectors import active_recurring_donor_emails
from newsletter.sending import claims, providers
from newsletter.sending.marks import Marks
from newsletter.sending.outcomes import TransientSendError
from newsletter.sending.pool import Job, SenderPool
from newsletter.sending.results import LaneResult, Transport

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """The heartbeat: renews a batch's lease every NEWSLETTER_HEARTBEAT_SECONDS, and knows
    until when messages of it may be handed over: a lease minus a heartbeat after the last
    renewal was asked for, so the senders stop before the lease can run out even if renewing
    fails (the database is gone)."""

    def __init__(self, lease: claims.Lease) -> None:
        self.lease = lease
        self.renewed = time.monotonic()  # the claim itself
        self.valid_until = self.renewed + self.valid_for()

    @staticmethod
    def valid_for() -> float:
        lease, beat = settings.NEWSLETTER_LEASE_SECONDS, settings.NEWSLETTER_HEARTBEAT_SECONDS
        return max(lease - beat, beat)

    def beat(self) -> bool:
        """Renew when due; False if the batch is no longer this lane's (cancelled)."""
        asked = time.monotonic()
        if asked - self.renewed < settings.NEWSLETTER_HEARTBEAT_SECONDS:
            return True
        seconds = settings.NEWSLETTER_LEASE_SECONDS
        if not claims.renew(self.lease, lease_seconds=seconds, now=timezone.now()):
            return False
        self.renewed = asked
        self.valid_until = asked + self.valid_for()
        return True


@dataclass
class OpenBatch:
    lease: claims.Lease
    keeper: LeaseKeeper
    outstanding: int  # units handed to the pool that have not reported
    rows: int


class Stream:
    def __init__(
        self,
        *,
        issue_id: int,
        pool: SenderPool,
        transport: Transport,
        result: LaneResult,
        ends: float,
        max_batches: int | None,
    ) -> None:
        self.issue_id, self.pool, self.transport, self.result = issue_id, pool, transport, result
        self.ends, self.max_batches = ends, max_batches
        self.marks = Marks(issue_id=issue_id, pool=pool, window=transport.window, result=result)
        self.open: dict[int, OpenBatch] = {}
        self.exhausted = False  # nothing was claimable: drain what is open, then end
        # Claim the next batch when this few units of the open ones are left.
        self.low_water = transport.window + 2 * transport.threads

    def run(self) -> None:
        while True:
            if not self.marks.stop:
                self._refill()
            if not self.open:
                return
            for jobs, _ in self.marks.collect(wait=0.05):
                self.open[jobs[0].batch_id].outstanding -= 1
            self._beat()
            if self.marks.stop:
                self.pool.stop.set()  # the threads report what is left as unsent, at once
            self._close_finished()

    def _refill(self) -> None:
        if self.exhausted or len(self.open) >= self.transport.open_batches:
            return
        if sum(batch.outstanding for batch in self.open.values()) > self.low_water:
            return
        if time.monotonic() > self.ends or self.result.batches == self.max_batches:
            self.result.more, self.exhausted = True, True
            return
        now = timezone.now()
        seconds = settings.NEWSLETTER_LEASE_SECONDS
        lease = claims.claim(issue_id=self.issue_id, lease_seconds=seconds, now=now)
        if lease is None:
            self.exhausted = True
            return
        self._start(lease)

    def _start(self, lease: claims.Lease) -> None:
        now = timezone.now()
        rows = claims.due_rows(lease, now=now)
        self.result.batches += 1
        self.result.claimed += len(rows)
        self.result.skipped += claims.skip_inactive(
            delivery_ids=[row.delivery_id for row in rows if not row.active], now=now
        )
        active = [row for row in rows if row.active]
        donors = active_recurring_donor_emails(row.email for row in active) if active else set()
        jobs = [Job(row, row.email.lower() not in donors, lease.batch_id) for row in active]
        units = providers.units(jobs, self.transport.unit_size)
        self.open[lease.batch_id] = OpenBatch(lease, LeaseKeeper(lease), len(units), len(rows))
        self._set_validity()
        for unit in units:
            self.pool.submit(unit)

    def _beat(self) -> None:
        for batch in self.open.values():
            if not batch.keeper.beat():
                self.marks.stop = self.marks.issue_stopped = True
        self._set_validity()

    def _set_validity(self) -> None:
        self.pool.valid_until = min(
            (batch.keeper.valid_until for batch in self.open.values()), default=0.0
        )

    def _close_finished(self) -> None:
        finished = [batch for batch in self.open.values() if batch.outstanding <= 0]
        if not finished:
            return
        self.marks.flush()  # their outcomes are in the ledger before they are let go
        self.result.stopped = self.marks.issue_stopped
        if self.marks.crashed:
            raise RuntimeError("a newsletter sender failed; its batches are left to their lease")
        for batch in finished:
            del self.open[batch.lease.batch_id]
            claims.close(batch.lease, now=timezone.now())
            logger.info(
                "newsletter batch sent",
                extra={
                    "issue_id": self.issue_id,
                    "batch_id": batch.lease.batch_id,
                    "rows": batch.rows,
                    "stopped": self.marks.stop,
                },
            )
        if self.marks.unavailable and not self.open:
            raise TransientSendError(self.marks.unavailable)
        self._set_validity()
