"""A real `celery worker` process on the test database and the real broker.

Tests that use it must commit their rows (`@pytest.mark.django_db(transaction=True)`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from django.db import connection

from newsroom.celery_app import app

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database pytest-django created, for another process to open."""
    db: dict[str, Any] = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(
        self, *, concurrency: int = 1, env: dict[str, str] | None = None, beat: bool = False
    ) -> None:
        self.concurrency = concurrency
        self.extra_env = env or {}
        self.beat = beat  # run the beat schedule in this worker too (`--beat`)
        self.log_path = ROOT / "var" / "test" / f"worker-{os.getpid()}-{id(self)}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self, *, wait: bool = True) -> WorkerProcess:
        """Start the worker and, unless `wait=False` (start several, then `wait_until_ready`
        each), wait until it consumes."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": test_database_url(),
            "CELERY_WORKER_TEST": "1",
            **self.extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "newsroom", "worker",
            "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle",
            "--concurrency", str(self.concurrency), "--hostname", f"test-{id(self)}@%h",
        ]  # fmt: skip
        if self.beat:
            schedule = self.log_path.with_suffix(".beat-schedule")
            command += ["--beat", "--schedule", str(schedule)]
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        if wait:
            self.wait_until_ready()
        return self

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if "ready." in self.log():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, not a shutdown."""
        if self.process is None:
            return
        for pid in _children(self.process.pid):
            _signal(pid, signal.SIGKILL)
        _signal(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._forget()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self._forget()

    def _forget(self) -> None:
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def purge_queues() -> None:
    with app.connection_for_write() as conn:
        app.control.purge(connection=conn)
