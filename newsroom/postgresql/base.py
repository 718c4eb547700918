"""Django's PostgreSQL backend with a health check that costs no round trip when nothing is
wrong (`ENGINE = "newsroom.postgresql"`, set by `newsroom.settings_structures`).

With `CONN_HEALTH_CHECKS`, Django runs `SELECT 1` on a kept connection before each request's
first query, so a connection the server dropped (a restart, an idle timeout, a terminated
backend) is replaced instead of failing the request. That is one round trip per request. A
server that ends a connection tells the client first: it sends an error (`FATAL: terminating
connection ...`) or closes the socket, and either makes the idle connection's socket readable.
So an idle connection whose socket has nothing to read is usable as far as the server has
said; one with anything to read (or not idle, or a socket `poll` cannot read) gets Django's own
`SELECT 1`, which reads it. A connection that died without a word (a cable pulled) fails both
checks alike, on its first query, bounded by the connection's timeouts.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status == TransactionStatus.IDLE and _nothing_to_read(
            connection.fileno()
        ):
            return True
        return bool(super().is_usable())


def _nothing_to_read(fd: int) -> bool:
    """Whether the socket has no byte, error or hang-up waiting (`poll`: any fd number)."""
    poller = select.poll()
    try:
        poller.register(fd, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False
