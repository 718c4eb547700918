"""The base of every Celery task (the app's `task_cls`), after pretix's transaction-aware task.

- `task.delay_on_commit(...)` enqueues once the surrounding transaction commits (never for
  rows that were rolled back). If the broker cannot take the message then, the failure is
  logged with the task's name and the caller goes on: the rows are committed, and the sweeper
  of that kind of work (receipts, notices, reminders, newsletter batches) re-queues it.
- One retry policy for transient errors, declared here only: a `TransientError` (a mail
  server's 4xx or a dropped connection, Stripe unreachable, ...), a network error or a
  database that went away is retried with exponential backoff and jitter, at most
  `max_retries` times. Permanent errors are not retried.
- Acknowledged after the task ran (`acks_late`): a worker killed mid-task leaves the message
  to be redelivered, so every task is idempotent (its effects are claimed in the database).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from celery import Task as CeleryTask
from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from newsroom.errors import TransientError

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)


class Task(CeleryTask[_P, _R]):
    abstract = True
    acks_late = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 15  # seconds before the first retry, doubling each time
    retry_backoff_max = 600  # far below the broker's visibility timeout
    retry_jitter = True
    max_retries = 8

    def delay_on_commit(self, *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Enqueue once the surrounding transaction commits (at once outside one)."""
        transaction.on_commit(functools.partial(self._enqueue, args, kwargs))

    def enqueue(self, *args: _P.args, **kwargs: _P.kwargs) -> bool:
        """Enqueue now; False (logged) if the broker could not take it. For callers that run
        after their commit themselves and need to know (the send notes when lanes were queued)."""
        return self._enqueue(args, kwargs)

    def _enqueue(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if self.app.conf.task_always_eager:  # tests: run inline, let its errors propagate
            self.apply_async(args, kwargs)
            return True
        try:
            self.apply_async(args, kwargs)
        except (BrokerUnavailable, RedisConnectionError, RedisTimeoutError) as error:
            logger.warning(
                "task not enqueued: broker unavailable; its sweeper re-queues the work",
                extra={"task": self.name, "error": type(error).__name__},
            )
            return False
        return True


def task(**options: Any) -> Callable[[Callable[_P, _R]], Task[_P, _R]]:
    """`@task(name=...)`: a Celery task on this base (typed, with `delay_on_commit`)."""

    def decorate(function: Callable[_P, _R]) -> Task[_P, _R]:
        return cast("Task[_P, _R]", shared_task(base=Task, **options)(function))

    return decorate
