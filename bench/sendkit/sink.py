"""The SMTP sink the send is measured against, its own ceiling, and the bare smtplib loop.

postfix's `smtp-sink` (C, one event loop; about 10,000 messages/s on this machine) is used when
it can be found: on the PATH, or under `var/postfix/` where `scripts/get-smtp-sink.sh` puts it
(`apt-get download postfix` + `dpkg -x`: no mail server installed). `--smtp HOST:PORT` names
any other server. Without either, aiosmtpd in its own process is the last resort: it is capped
near 800 messages/s, so the bench then measures its sink, and says so.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import shutil
import smtplib
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LOCAL_POSTFIX = ROOT / "var" / "postfix" / "root"
_COUNTER = re.compile(rb"mesg=(\d+)")


def postfix_tool(name: str) -> tuple[str, dict[str, str]] | None:
    """(path, extra environment) of smtp-sink / smtp-source, or None when not found."""
    on_path = shutil.which(name) or shutil.which(name, path="/usr/sbin")
    if on_path:
        return on_path, {}
    local = LOCAL_POSTFIX / "usr" / "sbin" / name
    if local.exists():
        return str(local), {"LD_LIBRARY_PATH": str(LOCAL_POSTFIX / "usr" / "lib" / "postfix")}
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@dataclass
class Sink:
    host: str
    port: int
    kind: str  # "smtp-sink" | "external" | "aiosmtpd"
    process: Any = None
    _output: bytearray = field(default_factory=bytearray)

    def count(self) -> int | None:
        """Messages the sink has received so far (smtp-sink's own counter), if it tells."""
        if self.kind != "smtp-sink":
            return None
        found = _COUNTER.findall(bytes(self._output[-200:]))
        return int(found[-1]) if found else 0

    def stop(self) -> None:
        if self.process is None:
            return
        if isinstance(self.process, subprocess.Popen):
            self.process.terminate()
            self.process.wait(timeout=10)
        else:
            self.process.terminate()
            self.process.join(timeout=10)


def start_smtp_sink() -> Sink | None:
    tool = postfix_tool("smtp-sink")
    if tool is None:
        return None
    path, extra = tool
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    for _ in range(5):  # a free port may be taken between the probe and the bind: try again
        port = free_port()
        process = subprocess.Popen(
            [path, "-c", *user, f"127.0.0.1:{port}", "1024"],
            env={**os.environ, **extra}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        sink = Sink("127.0.0.1", port, "smtp-sink", process)
        threading.Thread(target=_drain, args=(process, sink._output), daemon=True).start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and process.poll() is None:
            if _listening(port):
                return sink
            time.sleep(0.05)
        sink.stop() if process.poll() is None else None
    return None


def _drain(process: subprocess.Popen[bytes], into: bytearray) -> None:
    assert process.stdout is not None
    while chunk := os.read(process.stdout.fileno(), 4096):
        into.extend(chunk)
        if len(into) > 1 << 16:
            del into[: len(into) - 4096]


def _run_aiosmtpd(port_queue: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    class EphemeralPortController(Controller):
        def _trigger_server(self) -> None:  # aiosmtpd 1.4 checks `self.port`: learn it first
            server: Any = self.server
            self.port = int(server.sockets[0].getsockname()[1])
            super()._trigger_server()

    controller = EphemeralPortController(Handler(), hostname="127.0.0.1", port=0)
    controller.start()
    port_queue.put(controller.port)
    stop.wait()
    controller.stop()


class _AiosmtpdProcess:
    def __init__(self) -> None:
        self.ports: Any = multiprocessing.Queue()
        self.stop_event = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=_run_aiosmtpd, args=(self.ports, self.stop_event), daemon=True
        )

    def terminate(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float) -> None:
        self.process.join(timeout=timeout)


def start_sink(external: str | None) -> Sink:
    if external:
        host, _, port = external.rpartition(":")
        return Sink(host or "127.0.0.1", int(port), "external")
    sink = start_smtp_sink()
    if sink is not None:
        return sink
    print("warning: postfix's smtp-sink not found (run scripts/get-smtp-sink.sh); using "
          "aiosmtpd, which is capped near 800 messages/s: the figures will measure the sink",
          flush=True)  # fmt: skip
    holder = _AiosmtpdProcess()
    holder.process.start()
    return Sink("127.0.0.1", int(holder.ports.get(timeout=30)), "aiosmtpd", holder)


# --- the sink's ceiling, and the bare loop --------------------------------------------------
def _bare_loop(host: str, port: int, payload: bytes, messages: int) -> float:
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        started = time.perf_counter()
        for _ in range(messages):
            smtp.sendmail("news@news.example.org", ["reader1@example.org"], payload)
        return messages / (time.perf_counter() - started)


def bare_rate(sink: Sink, payload: bytes, messages: int) -> float:
    """smtplib sending one prebuilt message over one connection, as fast as it goes."""
    return _bare_loop(sink.host, sink.port, payload, messages)


def _bare_worker(args: tuple[str, int, bytes, int]) -> float:
    return _bare_loop(*args)


def sink_ceiling(sink: Sink, payload: bytes, messages: int = 40_000) -> tuple[float, str]:
    """How many messages/s the sink takes from a client much faster than ours: postfix's
    smtp-source (C) on 4 connections, best of two; else 4 smtplib processes (a lower bound)."""
    tool = postfix_tool("smtp-source")
    if tool is not None:
        path, extra = tool
        rates = []
        for _ in range(2):
            started = time.perf_counter()
            done = subprocess.run(
                [path, "-d", "-s", "4", "-m", str(messages), "-l", str(len(payload)),
                 f"{sink.host}:{sink.port}"],
                env={**os.environ, **extra}, capture_output=True, check=False,
            )  # fmt: skip
            if done.returncode == 0:
                rates.append(messages / (time.perf_counter() - started))
        if rates:
            return max(rates), "smtp-source (C), 4 connections"
    share = max(messages // 8, 1000)
    with multiprocessing.Pool(4) as pool:
        rates = pool.map(_bare_worker, [(sink.host, sink.port, payload, share)] * 4)
    return sum(rates), "at least: 4 smtplib processes"


@dataclass
class BareRuns:
    rates: list[float] = field(default_factory=list)

    def summary(self) -> str:
        if not self.rates:
            return "no bare runs"
        low, mid, high = min(self.rates), statistics.median(self.rates), max(self.rates)
        return f"{low:,.0f} / {mid:,.0f} / {high:,.0f} messages/s (min / median / max)"

    def ratios(self, rate: float) -> str:
        low, mid, high = min(self.rates), statistics.median(self.rates), max(self.rates)
        return f"{rate / mid:.2f} (vs the fastest {rate / high:.2f}, the slowest {rate / low:.2f})"
