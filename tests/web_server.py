"""The production web server, as the README starts it (gunicorn with `newsroom.gunicorn_conf`),
on a free loopback port against the test database and the test Redis.

Tests that use it must commit their rows (`@pytest.mark.django_db(transaction=True)`).
Its log (gunicorn's and Django's) is kept under var/test/ and printed when start-up fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import IO

from tests.celery_worker import ROOT, test_database_url

SETTINGS = "tests.server_settings"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GunicornServer:
    def __init__(self, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.workers = workers
        self.port = free_port()
        self.extra_env = env or {}
        self.log_path = ROOT / "var" / "test" / f"gunicorn-{os.getpid()}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> GunicornServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": test_database_url(),
            "SITE_URL": self.url,
            **self.extra_env,
        }
        env.pop("WEB_CONCURRENCY", None)  # the workers are this test's choice
        command = [
            sys.executable, "-m", "gunicorn", "-c", "python:newsroom.gunicorn_conf",
            "newsroom.wsgi", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
        ]  # fmt: skip
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited during start-up:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"gunicorn not answering after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
