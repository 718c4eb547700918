"""The bounce listener: a small SMTP server (aiosmtpd) that the newsroom's MX forwards the
bounce domain's mail to. It does the minimum inside the SMTP conversation:

* RCPT: only `bounces@BOUNCE_DOMAIN` and `bounces+<token>@BOUNCE_DOMAIN` with a token we made;
  anything else is refused (550), so it can never relay. At most 50 recipients a message.
* DATA: messages over BOUNCE_MAX_BYTES are refused (SIZE, 552). The message is read in a
  worker thread (`intake.report_payload`) and what it reports is handed to the
  Celery task `record_bounce_report` (ids and a scrubbed status line; the message itself is
  not kept). Then 250. If the task cannot be queued the answer is 451, so the MX retries.
  A message that reports nothing we can act on (an auto-reply, a delay warning, a report
  about no delivery of ours) is accepted and dropped.

No address, token or IP is logged (aiosmtpd's own logger, `mail.log`, is kept at ERROR).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connections

from newsletter.bounces.intake import report_payload
from newsletter.bounces.verp import read_token, split_ours

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
HANDOFF_TIMEOUT = 20.0  # seconds to queue the task before answering 451
SESSION_TIMEOUT = 60.0  # an idle client is dropped after this


def enqueue_report(payload: dict[str, Any]) -> None:
    """Queue the task now, raising if the broker cannot take it. (Not `delay_on_commit`,
    which logs a broker failure and goes on: there are no rows here for a sweeper to find,
    and the MX's queue, retrying after our 451, is what keeps the report.)"""
    from newsletter.tasks.bounces import record_bounce_report

    record_bounce_report.apply_async(kwargs=payload, retry=True, retry_policy={"max_retries": 2})


class BounceHandler:
    def __init__(self, enqueue: Callable[[dict[str, Any]], None] = enqueue_report) -> None:
        self.enqueue = enqueue

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        ours, token = split_ours(address)
        if not ours:
            return "550 5.7.1 Relaying denied: this server only takes bounces for its domain"
        if token is not None and read_token(token) is None:
            return "550 5.1.1 No such bounce address"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(None, self.process, list(envelope.rcpt_tos), data),
                timeout=HANDOFF_TIMEOUT,
            )
        except Exception:  # broker down, a timeout, or our bug: the MX keeps it and retries
            logger.exception("newsletter.bounce.handoff_failed")
            return "451 4.3.0 Temporary failure, please try again later"
        return "250 2.0.0 OK"

    def process(self, recipients: list[str], data: bytes) -> None:
        """Read one message and queue what it reports (runs in a worker thread)."""
        try:
            self._process(recipients, data)
        finally:
            # Only with CELERY_TASK_ALWAYS_EAGER (development, tests) does the task run here
            # and open a database connection; this thread must not keep it.
            connections.close_all()

    def _process(self, recipients: list[str], data: bytes) -> None:
        payload = report_payload(recipients=recipients, data=data, via="smtp")
        if payload is not None:
            self.enqueue(payload)


class BounceListener(Controller):
    """The listener in a thread of its own. `port=0` takes any free port (tests)."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: BounceHandler | None = None,
    ) -> None:
        super().__init__(
            handler or BounceHandler(),
            hostname=host,
            port=port,
            server_hostname=settings.BOUNCE_DOMAIN or "localhost",
            data_size_limit=settings.BOUNCE_MAX_BYTES,
            timeout=SESSION_TIMEOUT,
            ident="newsroom bounces",
        )

    def _trigger_server(self) -> None:
        # aiosmtpd 1.4 checks the server is up by connecting to `self.port`; with port 0 it
        # must learn the bound port first.
        server: Any = self.server
        self.port = int(server.sockets[0].getsockname()[1])
        super()._trigger_server()

    @property
    def bound_port(self) -> int:
        server: Any = self.server
        return int(server.sockets[0].getsockname()[1])


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:2525`) -> (host, port)."""
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ValueError(f"BOUNCE_LISTEN must be host:port, not {value!r}")
    return host.strip("[]"), int(port)
