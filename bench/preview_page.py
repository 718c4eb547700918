"""Requests per second of the newsletter's preview page (cache warm) next to the article page.

Starts gunicorn (2 sync workers, production settings: DEBUG off, Redis cache) on a free
loopback port against a database holding one sent issue, warms the cache, then runs a bounded
load loop (threads + http.client, a fixed number of requests per page) and prints a table.
The first row is the ceiling of this harness: the same gunicorn and client on a trivial WSGI
app, in the same interleaved rounds. Prints figures; asserts nothing about time.

    REDIS_URL=redis://127.0.0.1:6379/15 python bench/preview_page.py [--requests 3000]

DATABASE_URL is used when set (PostgreSQL; each run adds one sent "bench-..." issue, so give
it a database of its own); otherwise a fresh SQLite file in a temporary folder. The rendered
page stays in that Redis db's cache (keys `newsletter:web:*`); nothing is flushed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5
MAKE_ISSUE = """
from datetime import timedelta
from django.utils import timezone
from newsletter.models import Issue, IssueItem
now = timezone.now()
slug = "bench-" + now.strftime("%Y%m%d%H%M%S%f")
issue = Issue.objects.create(
    subject="Bench: this week at the Ledger", preheader="Rivers, courts and a poet",
    intro="Good morning.\\n\\nHere is what our reporters found this week.",
    status=Issue.Status.SENT, send_started_at=now - timedelta(minutes=5), sent_at=now,
    web_slug=slug,
)
sections = ["news", "features", "analysis", "opinion"]
IssueItem.objects.bulk_create(
    IssueItem(issue=issue, section=sections[n % 4], title=f"Story number {n}",
              url=f"https://news.example.org/stories/{n}/",
              summary="What happened, and why it matters. " * 3, position=n)
    for n in range(12)
)
print(slug)
"""
HELLO = """def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


@dataclass
class Result:
    path: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(port: int, var_dir: str) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        sys.exit("Set REDIS_URL (e.g. redis://127.0.0.1:6379/15): the page cache lives in Redis.")
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url,
        "EMAIL_URL": "console://",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{var_dir}/bench.sqlite3")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def get(port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def gunicorn(
    env: dict[str, str], app: str, port: int, workers: int, chdir: Path | str = ROOT
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", app, "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(chdir),
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip


def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited during start-up")
        try:
            if get(port, "/")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not answer within 30 s")


def load(port: int, path: str, *, requests: int, threads: int) -> Result:
    remaining = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            try:
                status, seconds = get(port, path)
            except OSError:
                status, seconds = 0, 0.0
            with lock:
                latencies.append(seconds)
                errors += status != 200

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Result(path, requests, errors, time.perf_counter() - started, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per page")
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-preview-") as var_dir:
        port = free_port()
        env = environment(port, var_dir)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        slug = manage(env, "shell", "-c", MAKE_ISSUE).strip().splitlines()[-1]
        Path(var_dir, "bench_hello.py").write_text(HELLO)
        bare_port = free_port()
        server = gunicorn(env, "newsroom.wsgi:application", port, args.workers)
        bare = gunicorn(env, "bench_hello:app", bare_port, args.workers, chdir=var_dir)
        try:
            wait_until_up(port, server)
            wait_until_up(bare_port, bare)
            pages = ["/", "/newsletter/preview/", f"/newsletter/issues/{slug}/"]
            for path in pages:  # warm: every worker renders the templates, the cache fills
                for _ in range(args.workers * 4):
                    get(port, path)
            # Interleaved rounds, so a neighbour's load on the machine hits every page alike.
            targets = [(bare_port, "/"), *((port, path) for path in pages)]
            results = [Result(path, 0, 0, 0.0, []) for _, path in targets]
            for _ in range(ROUNDS):
                for total, (target, path) in zip(results, targets, strict=True):
                    part = load(
                        target, path, requests=args.requests // ROUNDS, threads=args.threads
                    )
                    total.requests += part.requests
                    total.errors += part.errors
                    total.seconds += part.seconds
                    total.latencies += part.latencies
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=30)

    print(
        f"gunicorn {args.workers} sync workers, {args.threads} client threads, "
        f"{args.requests} requests per page, database {env['DATABASE_URL'].split(':')[0]}"
    )
    print(f"{'page':<42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for number, result in enumerate(results):
        ordered = sorted(result.latencies)
        p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else 0.0
        label = "ceiling: trivial WSGI app" if number == 0 else result.path
        label = {"/": "article /"}.get(label, label)
        if label.startswith("/newsletter/issues/"):
            label = "/newsletter/issues/<slug>/ (web version)"
        print(
            f"{label:<42} {result.rate:>8.0f} {statistics.median(ordered) * 1000:>8.1f} "
            f"{p95 * 1000:>8.1f} {result.errors:>7}"
        )
    ceiling, article, preview = results[0].rate, results[1].rate, results[2].rate
    print(f"preview / article ratio: {preview / article:.2f}" if article else "")
    print(f"article / ceiling ratio: {article / ceiling:.2f}" if ceiling else "")


if __name__ == "__main__":
    main()
