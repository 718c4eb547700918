"""What a lane works with and reports: how this deployment sends (`Transport`) and what one
lane task did (`LaneResult`). A leaf module, so the lane, its stream and its marks share them
without importing each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsletter.sending.pool import Sender


@dataclass
class LaneResult:
    batches: int = 0
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    bounced: int = 0
    stopped: bool = False  # the issue is not sending (paused, cancelled, sent)
    more: bool = False  # the lane's time was up with batches still claimable
    # The lane stopped early with work left (its send-rate counter was unreachable) and
    # queues no successor: the sweeper must not wait for one.
    interrupted: bool = False


@dataclass(frozen=True)
class Transport:
    """How this deployment sends: sender threads, units per call, the unmarked window."""

    make_sender: Callable[[], Sender]
    threads: int
    unit_size: int
    window: int  # units
    # Batches a lane holds at once: the next is claimed while one drains; with provider
    # batch calls a ledger batch may be a single call, so enough to keep every thread busy.
    open_batches: int = 2
