"""The servers `bench/donations_webhooks.py` drives, and what it counts afterwards.

A side is one checkout of the code (this one, or `--baseline DIR`) served by gunicorn with the
production config against a database of its own; all sides share the Redis db given.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from donations.standin.signing import stripe_signature_header  # noqa: E402

FIXTURE = ROOT / "tests/fixtures/stripe/checkout_session_completed_once.json"
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105 - the bench servers' own, made up
RECEIPT_TASK = "donations.tasks.send_receipt"
QUEUE = "celery"  # Celery's default queue: a Redis list
HELLO = """def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


@dataclass
class Side:
    name: str
    root: Path
    env: dict[str, str]
    port: int
    server: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> str:
        return self.env["DATABASE_URL"]


def bench_database(suffix: str, *, drop_only: bool = False) -> str:
    """The URL of a database of the bench's own, (re)created empty; or dropped."""
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    if not parts.scheme.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (a spare db: it is flushed).")
    name = f"{parts.path.lstrip('/')}_bench_{suffix}"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            admin.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path="/" + name).geturl()


def environment(port: int, var_dir: Path, database: str) -> dict[str, str]:
    return {
        **os.environ, "DATABASE_URL": database,
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}", "EMAIL_URL": f"file://{var_dir}/mail",
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # Nothing answers there: a handler that called Stripe would answer 503 (counted).
        "STRIPE_API_BASE": "http://127.0.0.1:9", "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(var_dir), "LOG_LEVEL": "INFO", "DJANGO_SETTINGS_MODULE": "newsroom.settings",
    }  # fmt: skip


def manage(side: Side, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=side.root, env=side.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        sys.exit(f"manage.py {args[0]} failed ({side.name}):\n{done.stderr[-3000:]}")
    return done.stdout


def serve(side: Side, workers: int, app: str = "newsroom.wsgi:application") -> None:
    """gunicorn with the production config, once it answers."""
    log = Path(side.env["VAR_DIR"], f"{side.name}.log")
    with log.open("ab") as out:
        side.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app, "-c", "python:newsroom.gunicorn_conf",
             "--workers", str(workers), "--bind", f"127.0.0.1:{side.port}"],
            cwd=side.root, env=side.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if side.server.poll() is not None:
            sys.exit(f"gunicorn ({side.name}) exited during start-up; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{side.port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn ({side.name}) did not answer within 60 s")


def stop(side: Side) -> None:
    if side.server is not None:
        side.server.terminate()
        side.server.wait(timeout=60)


def webhook_requests(tag: str, count: int) -> list[bytes]:
    """`count` distinct signed checkout.session.completed POSTs (signed now: Stripe's 5-minute
    tolerance holds for the round's new events and their replays). Each is a new donor's new
    paid one-time payment."""
    template = json.loads(FIXTURE.read_text())
    made = []
    for n in range(count):
        event = copy.deepcopy(template)
        event["id"] = f"evt_bench_{tag}_{n}"
        event["created"] = int(time.time())
        event["data"]["object"].update(
            id=f"cs_bench_{tag}_{n}", payment_intent=f"pi_bench_{tag}_{n}",
            customer=f"cus_bench_{tag}_{n}",
            customer_details={"email": f"reader.{tag}.{n}@example.org", "name": "A Reader"},
        )  # fmt: skip
        body = json.dumps(event).encode()
        head = (
            "POST /stripe/webhook/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"Stripe-Signature: {stripe_signature_header(body, WEBHOOK_SECRET)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        made.append(head.encode() + body)
    return made


def cpu_seconds(side: Side) -> float:
    """User + system CPU of the side's gunicorn master and workers so far."""
    import psutil

    assert side.server is not None
    master = psutil.Process(side.server.pid)
    return sum(
        sum(process.cpu_times()[:2]) for process in [master, *master.children(recursive=True)]
    )


def postgres_cpu(side: Side) -> dict[int, float]:
    """User + system CPU so far of each PostgreSQL backend serving the side's database (its
    server keeps its connections open between requests: CONN_MAX_AGE)."""
    import psutil

    name = urlsplit(side.database).path.lstrip("/")
    with psycopg.connect(side.database) as connection:
        pids = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    used = {}
    for (pid,) in pids:
        try:
            used[pid] = sum(psutil.Process(pid).cpu_times()[:2])
        except psutil.Error:
            continue
    return used


def postgres_cpu_since(side: Side, before: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu(side).items())


def queue_length(redis_url: str) -> int:
    return int(redis.Redis.from_url(redis_url).llen(QUEUE))


def queue_take(redis_url: str, count: int) -> int:
    """Remove the `count` newest messages (a baseline's, just queued) and say how many were
    `send_receipt`: the queue then holds this side's receipts alone, for the drain."""
    client = redis.Redis.from_url(redis_url)
    newest = client.lrange(QUEUE, 0, count - 1) if count > 0 else []
    client.ltrim(QUEUE, len(newest), -1)
    return sum(json.loads(raw)["headers"]["task"] == RECEIPT_TASK for raw in newest)


def queued_receipts(redis_url: str) -> tuple[int, set[int]]:
    """(messages queued for `send_receipt`, the distinct donation ids they name)."""
    client = redis.Redis.from_url(redis_url)
    messages, ids = 0, set()
    for raw in client.lrange(QUEUE, 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == RECEIPT_TASK:
            messages += 1
            args, _, _ = json.loads(base64.b64decode(message["body"]))
            ids.add(int(args[0]))
    return messages, ids


def made(database: str) -> dict[str, Any]:
    """What the bench's events left in a side's database."""
    with psycopg.connect(database) as connection:
        events = connection.execute(
            "SELECT count(*) FROM donations_stripeevent WHERE stripe_id LIKE 'evt_bench_%'"
        ).fetchone()
        paid = connection.execute(
            "SELECT id, receipt_sent_at IS NOT NULL FROM donations_donation"
            " WHERE status = 'paid' AND stripe_payment_intent_id LIKE 'pi_bench_%'"
        ).fetchall()
    return {
        "events": int(events[0]) if events else 0,
        "paid": {row[0] for row in paid},
        "sent": {row[0] for row in paid if row[1]},
    }


def drain(side: Side, expected: set[int]) -> tuple[int, float]:
    """Start a Celery worker (2 processes) and time it sending every queued receipt."""
    with Path(side.env["VAR_DIR"], "worker.log").open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-c", "2",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=side.root, env=side.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + 900
        sent: set[int] = set()
        while time.monotonic() < deadline and not expected <= sent:
            time.sleep(0.5)
            sent = made(side.database)["sent"]
        return len(sent & expected), time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
