"""A TCP server that accepts every connection and never answers: Stripe hanging.

`with HangingServer() as stripe: ...` points nothing by itself; use `stripe.url` as
`STRIPE_API_BASE`. `stripe.accepted` counts the connections it took (each one an attempt that
is waiting for its answer); they are held open until the server stops.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType


class HangingServer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.1)  # so the accepting thread sees `stop()`
        self._stopped = threading.Event()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self._held)

    def wait_for(self, connections: int, timeout: float = 30) -> None:
        """Block until `connections` attempts are waiting on this server."""
        deadline = time.monotonic() + timeout
        while self.accepted < connections:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.accepted} of {connections} connections after {timeout}s")
            time.sleep(0.02)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._held.append(connection)

    def start(self) -> HangingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for connection in self._held:
                connection.close()

    def __enter__(self) -> HangingServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
