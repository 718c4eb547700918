"""The processes of a bench run: Celery workers (one pool process each), one beat, and a
watcher of their memory. A worker can be SIGKILLed (its main process and its pool child, as a
crash does: nothing is handed back to the broker)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "var" / "bench"


class Worker:
    def __init__(self, env: dict[str, str], number: int) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"worker-{number}.log"
        self.log_path.unlink(missing_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "--loglevel", "WARNING",
             "--concurrency", "1", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--hostname", f"bench{number}-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.pool_pids():
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"a worker did not start; see {self.log_path}")
            time.sleep(0.2)
        time.sleep(1.0)  # connected to the broker and consuming

    def pool_pids(self) -> list[int]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        return []

    def kill(self) -> None:
        """SIGKILL the worker and its pool child at once: a crash, not a shutdown."""
        for pid in [*self.pool_pids(), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class Beat:
    """One `celery beat`: the sweeper's schedule, as in production."""

    def __init__(self, env: dict[str, str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        schedule = LOGS / f"beat-schedule-{os.getpid()}"
        for stale in LOGS.glob(f"beat-schedule-{os.getpid()}*"):
            stale.unlink()
        self._log = (LOGS / "beat.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "beat", "--loglevel", "WARNING",
             "--schedule", str(schedule)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class RSSWatcher:
    """Peak resident memory of each worker's pool process (where the send runs)."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self.peaks: dict[int, int] = {}

    def sample(self) -> None:
        for worker in self.workers:
            for pid in worker.pool_pids():
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss = psutil.Process(pid).memory_info().rss
                    self.peaks[pid] = max(self.peaks.get(pid, 0), rss)

    def summary(self) -> str:
        return ", ".join(f"{peak / 2**20:.0f} MiB" for peak in sorted(self.peaks.values()))


class CPUWatcher:
    """CPU seconds spent during a send by the workers, the sink and the bench database's
    PostgreSQL backends (sampled as they come and go), to say where the time goes."""

    def __init__(self, workers: list[Worker], sink_pid: int | None) -> None:
        self.workers = workers
        self.sink = psutil.Process(sink_pid) if sink_pid else None
        self.sink_start = self._cpu(self.sink) if self.sink else 0.0
        self.seen: dict[str, dict[int, float]] = {"workers": {}, "postgres": {}}
        self.start: dict[int, float] = {}
        self.kernel: dict[int, tuple[float, float]] = {}  # workers' system time: first, last

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def _note(self, group: str, pid: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            used = self._cpu(process)
            self.start.setdefault(pid, used if group == "workers" else 0.0)
            self.seen[group][pid] = used
            if group == "workers":
                system = float(process.cpu_times().system)
                self.kernel[pid] = (self.kernel.get(pid, (system, 0.0))[0], system)

    def sample(self) -> None:
        from django.db import connection

        for worker in self.workers:
            for pid in [worker.process.pid, *worker.pool_pids()]:
                self._note("workers", pid)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, backend_start > now() - interval '1 hour' FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            for pid, _ in cursor.fetchall():
                self._note("postgres", pid)

    def summary(self, messages: int) -> str:
        per = 1000 / max(messages, 1)
        parts = []
        for group, used in self.seen.items():
            total = sum(value - self.start.get(pid, 0.0) for pid, value in used.items())
            parts.append(f"{group} {total * per:.2f}")
            if group == "workers":
                kernel = sum(last - first for first, last in self.kernel.values())
                parts[-1] += f" (in the kernel {kernel * per:.2f})"
        if self.sink is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                parts.append(f"sink {(self._cpu(self.sink) - self.sink_start) * per:.2f}")
        return "CPU seconds per 1,000 messages: " + ", ".join(parts)
