"""Celery's broker transport on Redis: kombu's, with one Redis client per channel.

kombu's Redis channel makes a new `redis.Redis` client for every message it publishes (and
every other command outside its consumer loop); redis-py builds some 170 response callbacks
for each, about a third of a publish's CPU, paid by the webhook for every receipt it queues.
This channel keeps one client, made on first use, on the channel's own connection pool (a
client is safe to share between threads; each command borrows a pool connection), and drops
it with the pool when kombu disconnects the pools (after a fork, on close). Selected by
`CELERY_BROKER_TRANSPORT` when the broker is Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._shared_client is None:
            self._shared_client = self._create_client()  # type: ignore[attr-defined]
        yield self._shared_client

    def _disconnect_pools(self) -> None:
        self._shared_client = None
        super()._disconnect_pools()  # type: ignore[misc]


class Transport(kombu_redis.Transport):
    Channel = Channel
