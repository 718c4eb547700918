"""Several connections per lane: sender threads, each with its own SMTP connection or provider
session, fed units of work by the lane's main thread, which alone touches the database.

A *unit* is what one call hands over: one message over SMTP, one provider call (up to the
provider's batch size) through an ESP. The *window* bounds how many units may have been handed
to the server without their outcome being marked in the ledger yet: a thread takes a permit
before it sends a unit, and the lane returns the permit once the unit's mark has committed. So
a worker killed at any moment leaves at most `window` units accepted but unmarked: the only
messages a crash can send twice.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from newsletter.sending.claims import Claimed
from newsletter.sending.outcomes import Outcome
from newsletter.sending.throttle import RateCounterUnavailable, SendThrottle

logger = logging.getLogger(__name__)

UNSENT = Outcome("unsent")  # never handed to the server: back to the queue, uncharged


@dataclass(frozen=True, slots=True)
class Job:
    row: Claimed
    show_ask: bool
    batch_id: int = 0


class Sender(Protocol):
    """One connection's worth of sending, used by one thread only."""

    def send(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Hand the jobs over as one unit; one outcome per job, in order."""
        ...

    def close(self) -> None: ...


class SenderPool:
    def __init__(
        self,
        make_sender: Callable[[], Sender],
        *,
        threads: int,
        window: int,
        throttle: SendThrottle | None = None,
    ) -> None:
        self.make_sender = make_sender
        self.throttle = throttle
        self.window = threading.Semaphore(max(window, 1))
        self.work: queue.SimpleQueue[list[Job] | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[tuple[list[Job], list[Outcome]]] = queue.SimpleQueue()
        self.stop = threading.Event()
        # Set by the lane: a thread sends nothing once the lease may have run out.
        self.valid_until = float("inf")
        self.counter_lost = False  # the send-rate counter was unreachable: the lane stopped
        self.threads = [
            threading.Thread(target=self._run, name=f"newsletter-sender-{n}", daemon=True)
            for n in range(max(threads, 1))
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, unit: list[Job]) -> None:
        self.work.put(unit)

    def results(self, timeout: float) -> list[tuple[list[Job], list[Outcome]]]:
        """The outcomes reported since the last call; waits up to `timeout` for the first."""
        try:
            found = [self.done.get(timeout=max(timeout, 0.0))]
        except queue.Empty:
            return []
        while True:
            try:
                found.append(self.done.get_nowait())
            except queue.Empty:
                return found

    def marked(self, units: int) -> None:
        """The lane committed the marks of `units` units: their permits go back."""
        if units:
            self.window.release(units)

    def close(self) -> None:
        self.stop.set()
        for _ in self.threads:
            self.work.put(None)
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self) -> None:
        sender: Sender | None = None
        try:
            while (unit := self.work.get()) is not None:
                if not self._may_send():
                    self.done.put((unit, [UNSENT] * len(unit)))
                    continue
                if not self._throttle(len(unit)):
                    self.done.put((unit, [UNSENT] * len(unit)))
                    continue
                if sender is None:
                    sender = self.make_sender()
                try:
                    outcomes = sender.send(unit)
                except Exception:
                    # A bug, not a mail error (those are outcomes): the unit may or may not
                    # have gone out, so its rows stay leased until the lease runs out.
                    logger.exception("newsletter sender failed")
                    self.stop.set()
                    outcomes = [Outcome("crashed")] * len(unit)
                self.done.put((unit, outcomes))
        finally:
            if sender is not None:
                with contextlib.suppress(Exception):
                    sender.close()

    def _throttle(self, count: int) -> bool:
        """Wait for the send rate; False (and the lane stops) if its counter is unreachable."""
        if self.throttle is None:
            return True
        try:
            self.throttle.acquire(count)
        except RateCounterUnavailable as error:
            if not self.stop.is_set():
                logger.warning(
                    "newsletter lane stops: the send-rate counter is unavailable",
                    extra={"error": type(error.__cause__).__name__},
                )
            self.counter_lost = True
            self.stop.set()
            return False
        return True

    def _may_send(self) -> bool:
        """Take a permit, unless the lane is stopping or its lease may have run out."""
        while not self.stop.is_set():
            if self.window.acquire(timeout=0.2):
                if self.stop.is_set() or time.monotonic() >= self.valid_until:
                    self.window.release()
                    return False
                return True
        return False
