"""Webhook delivery as Stripe does it: a POST of the event's JSON with a `Stripe-Signature`
header, from a background thread, retried with backoff on a non-2xx answer or a connection
error. Every attempt is recorded so tests can see retries."""

from __future__ import annotations

import heapq
import http.client
import itertools
import logging
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from donations.standin.signing import stripe_signature_header

logger = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (0.5, 2.0, 5.0, 10.0)  # seconds after each failed attempt (Stripe: days)


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event_id: str = field(compare=False)
    payload: bytes = field(compare=False)
    attempt: int = field(compare=False, default=1)


class WebhookSender:
    def __init__(
        self,
        url: str | None,
        secret: str,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.attempts: list[dict[str, Any]] = []
        self._queue: list[_Job] = []
        self._seq = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._held: list[tuple[str, str, bytes]] | None = None
        self.enabled_events: frozenset[str] = frozenset()  # empty: every type
        self._thread = threading.Thread(
            target=self._run, name="stripe-standin-webhooks", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=self.timeout + 5)

    def enqueue(self, event_id: str, event_type: str, payload: bytes) -> None:
        """Queue an event for delivery: a no-op while no webhook URL is configured, or for a
        type the endpoint has not enabled (Stripe sends an endpoint only its enabled events)."""
        if not self.url or (self.enabled_events and event_type not in self.enabled_events):
            return
        with self._cond:
            if self._held is not None:
                self._held.append((event_id, event_type, payload))
                return
            heapq.heappush(self._queue, _Job(time.monotonic(), next(self._seq), event_id, payload))
            self._cond.notify_all()

    def hold(self) -> None:
        """Keep new events back (emitted and recorded, not yet sent) until `release`."""
        with self._cond:
            if self._held is None:
                self._held = []

    def release(self, order: str = "emitted", seed: int | None = None) -> list[str]:
        """Send the held events in `order`: emitted, reversed or shuffled; returns their ids."""
        with self._cond:
            held, self._held = self._held or [], None
        if order == "reversed":
            held.reverse()
        elif order == "shuffled":
            random.Random(seed).shuffle(held)  # noqa: S311 - a reproducible test order, no secret
        elif order != "emitted":
            raise ValueError(f"unknown order {order!r}")
        for event_id, event_type, payload in held:
            self.enqueue(event_id, event_type, payload)
        return [event_id for event_id, _, _ in held]

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued event is delivered or given up on; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self.attempts.clear()

    def _next_job(self) -> _Job | None:
        with self._cond:
            while not self._stopping:
                if self._queue and self._queue[0].due <= time.monotonic():
                    self._busy += 1
                    return heapq.heappop(self._queue)
                wait = self._queue[0].due - time.monotonic() if self._queue else 1.0
                self._cond.wait(max(wait, 0.001))
            return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                self._attempt(job)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, job: _Job) -> None:
        url = self.url
        status: int | None = None
        error: str | None = None
        if url:
            try:
                status = self._post(url, job.payload)
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
        delivered = status is not None and 200 <= status < 300
        with self._cond:
            self.attempts.append(
                {
                    "event_id": job.event_id,
                    "attempt": job.attempt,
                    "status": status,
                    "error": error,
                    "url": url,
                }
            )
            if not delivered and url and job.attempt <= len(self.retry_delays):
                delay = self.retry_delays[job.attempt - 1]
                heapq.heappush(
                    self._queue,
                    _Job(
                        time.monotonic() + delay,
                        next(self._seq),
                        job.event_id,
                        job.payload,
                        job.attempt + 1,
                    ),
                )
        logger.info(
            "webhook %s attempt %d -> %s",
            job.event_id, job.attempt, status or error,
            extra={"event_id": job.event_id, "attempt": job.attempt, "status": status},
        )  # fmt: skip

    def _post(self, url: str, payload: bytes) -> int:
        parts = urllib.parse.urlsplit(url)
        conn_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_class(parts.netloc, timeout=self.timeout)
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn.request(
                "POST",
                path,
                body=payload,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": stripe_signature_header(payload, self.secret),
                    "Cache-Control": "no-cache",
                    "Accept": "*/*; q=0.5, application/xml",
                },
            )
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()
