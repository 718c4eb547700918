"""Run a short transaction again when PostgreSQL aborted it to break a deadlock (or a
serialisation failure): the other transaction went on, and ours, run again from the start,
sees what it committed. Only for work that is safe to repeat and calls nothing outside the
database; inside an outer transaction it runs once (the outer one is the unit to repeat).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

Result = TypeVar("Result")

# PostgreSQL's SQLSTATEs for "try the transaction again".
RETRYABLE_STATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 3


def is_retryable(error: BaseException) -> bool:
    return getattr(error.__cause__, "sqlstate", None) in RETRYABLE_STATES


def atomic_retrying(work: Callable[[], Result], *, name: str) -> Result:
    """`work()` in a transaction, run up to `ATTEMPTS` times when the database aborted it."""
    if connection.in_atomic_block:
        with transaction.atomic():
            return work()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as error:
            if attempt == ATTEMPTS or not is_retryable(error):
                raise
            state = getattr(error.__cause__, "sqlstate", "")
            logger.warning(
                "transaction aborted by the database, run again",
                extra={"transaction": name, "sqlstate": state, "attempt": attempt},
            )
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
