"""Where the appeal's fast-moving state lives: the version of the staff's settings (so every
process notices an edit on its next page view) and the counters of impressions and checkout
starts (so counting costs the article page one Redis round trip, never a database write).

Redis (the default cache's server) when the cache is Redis; otherwise, for the embedded demo
without Redis, this process's memory. A Redis that fails is skipped for `PAUSE_SECONDS`: the
page is served from the process's copy and that moment's counts are lost, never the page.

Counters: a hash `appeal:n:<variant>:<yyyymmdd>` (fields `i` impressions, `c` checkouts), one
HINCRBY per count (on the article page written together with the GET of the version). Folding
finds them with SCAN and renames each to `appeal:fold:<token>:...` (atomically with its entry
in the set `appeal:folding`), so counts that arrive during a fold go to a fresh hash, and a
fold that dies leaves its batches listed for the next one.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "appeal:version"
COUNT_PREFIX = "appeal:n:"
FOLDING_KEY = "appeal:folding"
FOLD_PREFIX = "appeal:fold:"
PAUSE_SECONDS = 5.0
MAX_PACKED = 256  # kept encoded: the version check, and a count per variant, metric and day
METRICS = {"impressions": "i", "checkouts": "c"}


@lru_cache(maxsize=256)
def counter_key(variant_id: int, day: date) -> str:
    """`appeal:n:<variant>:<yyyymmdd>` (formatting the date cost more than the lookup)."""
    return f"{COUNT_PREFIX}{variant_id}:{day:%Y%m%d}"


@dataclass(frozen=True)
class Batch:
    """Counts taken out of the store under a unique key, to be added to the database once."""

    key: str
    variant_id: int
    day: date
    counts: dict[str, int]  # metric -> count


class Store(Protocol):
    def version(self) -> str | None: ...
    def version_and_count(self, variant_id: int, metric: str, day: date) -> str | None: ...
    def bump(self) -> None: ...
    def count(self, variant_id: int, metric: str, day: date) -> None: ...
    def take(self) -> list[Batch]: ...
    def done(self, batch: Batch) -> None: ...


def _batch(key: str, raw: dict[Any, Any]) -> Batch | None:
    """`appeal:fold:<token>:<variant>:<yyyymmdd>` and its hash -> a Batch."""
    try:
        variant, day = key.rsplit(":", 2)[-2:]
        counts = {
            name: int(raw.get(field.encode(), raw.get(field, 0)) or 0)
            for name, field in METRICS.items()
        }
        return Batch(key, int(variant), date(int(day[:4]), int(day[4:6]), int(day[6:])), counts)
    except ValueError:
        logger.warning("appeal counter key not understood", extra={"key": key})
        return None


class RedisStore:
    def __init__(self) -> None:
        self._paused_until = 0.0
        self._redis: Any = None
        self._own = threading.local()
        self._packed: dict[tuple[Any, ...], list[bytes]] = {}  # commands -> their RESP bytes

    def _client(self) -> Any:
        """One client per process on the cache's connection pool (thread-safe; building one
        per call, as the cache does, costs more than the round trip)."""
        if self._redis is None:
            self._redis = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        return self._redis

    def _commands(self, *commands: tuple[Any, ...]) -> list[Any]:
        """The article page's one round trip: its commands written at once on this thread's
        own connection (made with the cache pool's settings), encoded once, their replies
        read in turn. Through the client, every call took a connection from the pool,
        checked it for stray data (a system call), timed and returned it and encoded the
        command again, which cost as much CPU as the round trip itself. A connection that
        fails (Redis restarted) is dropped and the commands sent once more on a new one; one
        that times out, or answers an error, is dropped and the error raised."""
        own = getattr(self._own, "connection", None)
        if own is None or own[0] != os.getpid():  # a new thread, or a forked process
            pool = self._client().connection_pool
            own = self._own.connection = (
                os.getpid(),
                pool.connection_class(**pool.connection_kwargs),
            )
        connection = own[1]
        packed = self._packed.get(commands)
        if packed is None:  # the same few commands every view: encoded once
            if len(self._packed) >= MAX_PACKED:
                self._packed.clear()
            packed = self._packed[commands] = connection.pack_commands(commands)
        for attempt in (1, 2):
            try:
                connection.send_packed_command(packed)
                return [connection.read_response() for _ in commands]
            except RedisConnectionError:
                connection.disconnect()
                if attempt == 2:
                    raise
            except RedisError:  # a timeout (the reader has waited enough) or an error reply
                connection.disconnect()  # (the next replies would be left unread)
                raise
        return []  # not reached

    def _available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def _failed(self, error: RedisError) -> None:
        self._paused_until = time.monotonic() + PAUSE_SECONDS
        logger.warning("appeal store unavailable", extra={"error": type(error).__name__})

    def version(self) -> str | None:
        if not self._available():
            return None
        try:
            [found] = self._commands(("GET", VERSION_KEY))
            if found is None:  # new or flushed Redis: a fresh token, so no copy matches it
                client = self._client()
                client.set(VERSION_KEY, secrets.token_hex(8), nx=True)
                found = client.get(VERSION_KEY)
        except RedisError as error:
            self._failed(error)
            return None
        return found.decode() if isinstance(found, bytes) else found

    def version_and_count(self, variant_id: int, metric: str, day: date) -> str | None:
        """`count` and `version` in one round trip (the article page's only one), so a page
        that counts costs about what one that only checks the version does: HINCRBY and GET
        written at once. (redis-py's pipeline object cost the client a sixth of the page's
        CPU; a Lua script doing both cost Redis 20 µs a call, five times the two commands.)"""
        if not self._available():
            return None
        count = ("HINCRBY", counter_key(variant_id, day), METRICS[metric], 1)
        try:
            _, found = self._commands(count, ("GET", VERSION_KEY))
        except RedisError as error:
            self._failed(error)
            return None
        if found is None:
            return self.version()
        return found.decode() if isinstance(found, bytes) else found

    def bump(self) -> None:
        try:
            self._client().set(VERSION_KEY, secrets.token_hex(8))
        except RedisError as error:
            self._failed(error)

    def count(self, variant_id: int, metric: str, day: date) -> None:
        if not self._available():
            return
        try:
            self._client().hincrby(counter_key(variant_id, day), METRICS[metric], 1)
        except RedisError as error:
            self._failed(error)

    def take(self) -> list[Batch]:
        """Move every counter hash under a fresh unique key, then return every batch not yet
        finished (including those a crashed fold left behind)."""
        client = self._client()
        for raw_key in client.scan_iter(match=f"{COUNT_PREFIX}*", count=500):
            key = raw_key.decode()
            fold_key = f"{FOLD_PREFIX}{secrets.token_hex(8)}:{key.removeprefix(COUNT_PREFIX)}"
            pipe = client.pipeline(transaction=True)
            pipe.sadd(FOLDING_KEY, fold_key)
            pipe.rename(key, fold_key)
            try:
                pipe.execute()
            except RedisError:  # no such key: its counts were taken by a concurrent fold
                client.srem(FOLDING_KEY, fold_key)
        batches = []
        for raw_key in client.smembers(FOLDING_KEY):
            key = raw_key.decode()
            batch = _batch(key, client.hgetall(key))
            if batch is None:
                client.srem(FOLDING_KEY, key)
            else:
                batches.append(batch)
        return batches

    def done(self, batch: Batch) -> None:
        pipe = self._client().pipeline(transaction=True)
        pipe.delete(batch.key)
        pipe.srem(FOLDING_KEY, batch.key)
        pipe.execute()


class MemoryStore:
    """The embedded demo without Redis: one process's memory (runserver is one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = secrets.token_hex(8)
        self._counts: Counter[tuple[int, date, str]] = Counter()
        self._taken: dict[str, Batch] = {}

    def version(self) -> str | None:
        return self._version

    def version_and_count(self, variant_id: int, metric: str, day: date) -> str | None:
        self.count(variant_id, metric, day)
        return self._version

    def bump(self) -> None:
        self._version = secrets.token_hex(8)

    def count(self, variant_id: int, metric: str, day: date) -> None:
        with self._lock:
            self._counts[(variant_id, day, metric)] += 1

    def take(self) -> list[Batch]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
            grouped: dict[tuple[int, date], dict[str, int]] = {}
            for (variant_id, day, metric), n in counts.items():
                grouped.setdefault((variant_id, day), dict.fromkeys(METRICS, 0))[metric] += n
            for (variant_id, day), found in grouped.items():
                key = f"{FOLD_PREFIX}{secrets.token_hex(8)}:{variant_id}:{day:%Y%m%d}"
                self._taken[key] = Batch(key, variant_id, day, found)
            return list(self._taken.values())

    def done(self, batch: Batch) -> None:
        with self._lock:
            self._taken.pop(batch.key, None)


_day: tuple[int, str, date] = (-1, "", date.min)  # (second, TIME_ZONE, the local date then)


def today() -> date:
    """`timezone.localdate()`, the counters' day, worked out once a second: a date changes
    only on a whole second, and converting the time to the site's zone on every counted
    page view was a tenth of what an experiment cost the article page. (Nothing activates
    another time zone per request; the site's setting is part of the key for tests.)"""
    global _day  # one immutable tuple, swapped whole (thread-safe)
    second, zone = int(time.time()), settings.TIME_ZONE
    found = _day
    if found[0] != second or found[1] != zone:
        found = _day = (second, zone, timezone.localdate())
    return found[2]


_stores: dict[bool, Store] = {}
_store_lock = threading.Lock()


def store() -> Store:
    """Redis when the default cache is Redis (checked each call: tests switch caches)."""
    redis = isinstance(caches["default"], RedisCache)
    found = _stores.get(redis)
    if found is None:
        with _store_lock:
            found = _stores.setdefault(redis, RedisStore() if redis else MemoryStore())
    return found


def reset_store() -> None:
    """Tests: forget the process's stores (their counts and pauses)."""
    with _store_lock:
        _stores.clear()
