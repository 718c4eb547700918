"""NEWSLETTER_SEND_RATE: messages per second across every worker, counted in the shared cache.

A fixed-window counter in the cache (Redis in production, so all workers share it): each
message takes one slot of the current window; when the window is full the sender waits for
the next one. Rate 0 means no limit and no cache traffic.

If the counter cannot be reached (Redis restarting), `acquire` raises `RateCounterUnavailable`
instead of guessing: sending on without the shared count could exceed the rate the mail
server allows. The lane then hands nothing more over and ends; its batches go back to the
ledger, no successor is queued (the lane says so: `LaneResult.interrupted`), and the sweeper
queues lanes again at its first run once Redis is back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.core.cache import BaseCache, cache
from redis.exceptions import RedisError

from newsroom.errors import TransientError

KEY_PREFIX = "newsletter:send-rate"


class RateCounterUnavailable(TransientError):
    """The shared send-rate counter (the cache) did not answer."""


class SendThrottle:
    def __init__(
        self,
        rate: float,
        *,
        store: BaseCache | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.store = store if store is not None else cache
        self.clock = clock
        self.sleep = sleep
        # A window of at least one second, holding at least one message (rates below 1/s).
        self.window = max(1.0, 1.0 / rate) if rate > 0 else 0.0
        self.per_window = max(1, math.floor(rate * self.window)) if rate > 0 else 0

    def acquire(self, count: int = 1) -> None:
        """Return when this worker may send `count` more messages (a provider call may carry
        more than one window holds: it takes the windows it needs, one after another)."""
        if self.rate <= 0:
            return
        remaining = count
        while True:
            now = self.clock()
            window = math.floor(now / self.window)
            key = f"{KEY_PREFIX}:{window}"
            wanted = min(remaining, self.per_window)
            try:
                self.store.add(key, 0, timeout=math.ceil(self.window) + 5)
                total = self.store.incr(key, wanted)
            except (RedisError, ConnectionError, TimeoutError) as error:
                raise RateCounterUnavailable("The send-rate counter is unavailable.") from error
            remaining -= max(0, min(wanted, self.per_window - (total - wanted)))
            if remaining <= 0:
                return
            self.sleep((window + 1) * self.window - now)
