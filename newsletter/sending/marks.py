"""The lane's marks: the outcomes its sender threads report, written to the ledger in few
statements, after which the units' permits go back to the senders (see `pool`)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from newsletter.models import Issue
from newsletter.sending import claims
from newsletter.sending.outcomes import Outcome, retry_delay
from newsletter.sending.pool import Job, SenderPool
from newsletter.sending.results import LaneResult
from newsletter.services.bounces import delivery_refused_record

logger = logging.getLogger(__name__)

# Flush when a quarter of the window is waiting, or when the oldest outcome waited 5 ms: the
# senders keep three quarters of the window to work with while a mark is on its way.
FLUSH_SHARE = 0.25
FLUSH_AFTER = 0.005
CHARGED = frozenset({"transient", "connection", "unavailable"})


class Marks:
    def __init__(self, *, issue_id: int, pool: SenderPool, window: int, result: LaneResult):
        self.issue_id = issue_id
        self.pool = pool
        self.window = window
        self.result = result
        self.sent: list[int] = []
        self.others: list[tuple[Job, Outcome]] = []
        self.units = 0  # reported, not yet flushed
        self.oldest = 0.0
        self.stop = False  # stop handing over: the issue stopped, the lease is lost, ...
        self.issue_stopped = False
        self.unavailable = ""  # the provider or server is down: the task retries later
        self.crashed = False

    def collect(self, *, wait: float) -> list[tuple[list[Job], list[Outcome]]]:
        """Take the outcomes reported so far (waiting up to `wait` for one); flush when due.
        Returns the units that reported."""
        reported = self.pool.results(timeout=wait)
        for jobs, outcomes in reported:
            if not self.units:
                self.oldest = time.monotonic()
            self.units += 1
            for job, outcome in zip(jobs, outcomes, strict=True):
                self._add(job, outcome)
        if self.units and (
            self.units >= max(1, int(self.window * FLUSH_SHARE))
            or time.monotonic() - self.oldest >= FLUSH_AFTER
        ):
            self.flush()
        return reported

    def _add(self, job: Job, outcome: Outcome) -> None:
        if outcome.kind == "sent":
            self.sent.append(job.row.delivery_id)
            return
        if outcome.kind in ("unsent", "unreachable", "crashed"):
            self.stop = True
            if outcome.kind == "unreachable":
                self.unavailable = outcome.error
            self.crashed = self.crashed or outcome.kind == "crashed"
            return
        if outcome.kind == "unavailable":
            self.stop = True
            self.unavailable = outcome.error
        self.others.append((job, outcome))

    def flush(self) -> None:
        """Write what was reported: the sent rows in one statement, the rest one by one."""
        if not self.units:
            return
        now = timezone.now()
        if self.sent:
            status = claims.mark_sent(delivery_ids=self.sent, issue_id=self.issue_id, now=now)
            self.result.sent += len(self.sent)
            if status != Issue.Status.SENDING:
                self.stop = self.issue_stopped = True
        for job, outcome in self.others:
            self._record(job, outcome, now=now)
        self.pool.marked(self.units)
        self.sent, self.others, self.units = [], [], 0

    def _record(self, job: Job, outcome: Outcome, *, now: datetime) -> None:
        row, result = job.row, self.result
        attempts = row.attempts + 1
        if outcome.kind in CHARGED and attempts < settings.NEWSLETTER_MAX_ATTEMPTS:
            claims.mark_deferred(
                delivery_id=row.delivery_id,
                now=now,
                retry_at=now + retry_delay(attempts),
                error=outcome.error,
            )
            result.deferred += 1
            return
        claims.mark_failed(delivery_id=row.delivery_id, now=now, error=outcome.error)
        result.failed += 1
        if outcome.hard_bounce:  # recorded against the issue; the address leaves the list
            delivery_refused_record(delivery_id=row.delivery_id, detail=outcome.error)
            result.bounced += 1
