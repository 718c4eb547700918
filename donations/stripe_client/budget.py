"""How long a Stripe call may take, sized to who is waiting on it.

A request someone is waiting on (a reader's Continue, the thank-you page, the donor page's
changes, card link and erasure, Stripe's own webhook delivery) runs inside `reader_budget()`
(views take the `@reader_waits` decorator): all its Stripe calls share `STRIPE_READER_BUDGET`
seconds and at most one retry in all, and a call with too little time left is not started but
raises `StripeUnavailable` at once. So the reader's 503 page comes within the budget, and a
hanging Stripe holds a web thread for the budget, not for the SDK's 80 s and its retries.

Anywhere else (Celery tasks, staff actions, management commands) each call gets its own
connect timeout (`STRIPE_CONNECT_TIMEOUT`), read timeout (`STRIPE_TIMEOUT`) and one retry; a
task that still fails is retried later by the task base's policy (`StripeUnavailable` is a
`TransientError`).

`calls.py` turns the SDK's own retries off (they sleep and wait again, past any budget) and
asks an `Attempts` for each attempt's timeouts and whether a failed attempt may be retried.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings

from donations.stripe_client.errors import StripeUnavailable

RETRY_PAUSE = 0.25  # seconds between a failed attempt and its retry
SHORTEST_ATTEMPT = 0.5  # an attempt with less of the budget left than this is not started

View = TypeVar("View", bound=Callable[..., Any])


@dataclass
class Budget:
    """The Stripe time and retries one waiting request has left."""

    deadline: float  # on `time.monotonic()`'s clock
    retries: int = 1

    def left(self) -> float:
        return self.deadline - time.monotonic()


_current: ContextVar[Budget | None] = ContextVar("stripe_reader_budget", default=None)


@contextmanager
def reader_budget(seconds: float | None = None) -> Iterator[Budget]:
    """Every Stripe call inside shares `seconds` (default `STRIPE_READER_BUDGET`) and one
    retry. Nested, the outer budget stands: a person waits once."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    length = settings.STRIPE_READER_BUDGET if seconds is None else seconds
    budget = Budget(deadline=time.monotonic() + length)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def reader_waits(view: View) -> View:
    """A view someone waits on: its Stripe calls run inside one `reader_budget()`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reader_budget():
            return view(*args, **kwargs)

    return cast(View, wrapper)


@dataclass(frozen=True)
class Timeouts:
    """One attempt's limits, in seconds: to connect, to wait for each read, and in all (None
    outside a reader's budget)."""

    connect: float
    read: float
    total: float | None = None


class Attempts:
    """The attempts of one Stripe call: the first, and at most one retry (inside a reader's
    budget, one retry for the whole request)."""

    def __init__(self) -> None:
        self.budget = _current.get()
        self.own = Budget(deadline=float("inf"))  # outside a budget: one retry per call

    def timeouts(self) -> Timeouts:
        """The next attempt's timeouts; `StripeUnavailable` when the reader's budget is spent."""
        connect, read = settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_TIMEOUT
        if self.budget is None:
            return Timeouts(connect=connect, read=read)
        left = self.budget.left()
        if left < SHORTEST_ATTEMPT:
            raise StripeUnavailable(
                extra={"stripe_error": "reader budget spent", "budget_left": round(left, 2)}
            )
        return Timeouts(connect=min(connect, left), read=min(read, left), total=left)

    def retry(self) -> bool:
        """Whether a failed attempt is tried once more (after a short pause): if no retry was
        spent yet and, inside a budget, time for another attempt is left."""
        holder = self.budget or self.own
        if holder.retries < 1 or holder.left() < RETRY_PAUSE + SHORTEST_ATTEMPT:
            return False
        holder.retries -= 1
        time.sleep(RETRY_PAUSE)
        return True
