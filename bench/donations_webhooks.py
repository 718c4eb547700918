"""Stripe's webhook under production conditions: new payments/s and replays/s, several rounds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nr_webhook_bench \
      REDIS_URL=redis://127.0.0.1:6379/14 python bench/donations_webhooks.py [--drain]
    ... --rounds 5 --events 1000 --connections 16 --workers 2 --figures 100000

The server is the production one: gunicorn with `newsroom.gunicorn_conf` (gthread, 8 threads
per worker, access log on), DEBUG off, log level INFO (the lines go to a file), PostgreSQL, and
Celery's broker on Redis with no worker running, so each paid payment's receipt is queued by
`delay_on_commit` exactly as in production and stays in the queue. The load generator
(`bench/http_load.py`) is a separate process with `--connections` keep-alive connections.
Each round posts `--events` distinct signed `checkout.session.completed` events (a new donor
and a new paid one-time payment each), then the same requests again (replays: 200, nothing
made), and measures two ceilings with the same generator and connections: a bare WSGI app
under the same gunicorn config (the harness itself), and `GET /favicon.ico` on the bench's
server (Django's whole middleware stack and a redirect, no database; `/healthz` opens a broker
connection per call, so it is no ceiling). Rates are printed as min / median / max over
the rounds, with gunicorn's own CPU per request (user + system of its processes, so time spent
waiting for a core on a shared machine does not count).

At the end it checks what was made: one stored event, one paid payment and one queued
`send_receipt` message (counted in Redis) per event. `--drain` then starts a Celery worker and
times it sending every receipt (to files). `--figures N` times the staff figures page's data
over N synthetic payments (0 skips it).

It works in a database of its own, `<DATABASE_URL's name>_bench_webhooks` (created, migrated,
dropped at the end; the one named is never touched), and flushes only the Redis db it is
given. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import pickle
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.appeal_page import free_port, manage, neighbours  # noqa: E402
from donations.standin.signing import stripe_signature_header  # noqa: E402

FIXTURE = ROOT / "tests/fixtures/stripe/checkout_session_completed_once.json"
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105 - the bench server's own, made up
RECEIPT_TASK = "donations.tasks.send_receipt"
HELLO = """def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""
FIGURES = """
import json, statistics, time
from decimal import Decimal
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from donations.figures import figures
from donations.models import Donation, RecurringDonation
n, now, day = {n}, timezone.now(), timezone.timedelta(days=1)
Donation.objects.bulk_create((Donation(frequency=("once", "monthly", "annual")[i % 3],
    amount=Decimal(5 + i % 50), currency=("usd", "eur", "gbp")[i % 3], status="paid",
    paid_at=now - (i % 120) * day, stripe_payment_intent_id=f"pi_fill_{{i}}")
    for i in range(n)), batch_size=5000)
RecurringDonation.objects.bulk_create((RecurringDonation(stripe_subscription_id=f"sub_fill_{{i}}",
    frequency=("monthly", "annual")[i % 2], amount=Decimal(5 + i % 20), currency="usd",
    status="cancelled" if i % 7 == 0 else "active", started_at=now - (i % 100) * day,
    cancelled_at=now - (i % 30) * day if i % 7 == 0 else None) for i in range(n // 10)),
    batch_size=5000)
connection.cursor().execute("ANALYZE")
figures()
timings = []
for _ in range(5):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        with transaction.atomic():
            figures()
        timings.append((time.perf_counter() - started) * 1000)
print(json.dumps({{"median": statistics.median(timings), "min": min(timings),
                  "max": max(timings), "queries": len(queries)}}))
"""


def bench_database(*, drop_only: bool = False) -> str:
    """The URL of this bench's own database, (re)created empty; or dropped."""
    import psycopg

    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    if not parts.scheme.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (a spare db: it is flushed).")
    name = parts.path.lstrip("/") + "_bench_webhooks"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            admin.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path="/" + name).geturl()


def environment(port: int, var_dir: str, database: str) -> dict[str, str]:
    return {
        **os.environ, "DATABASE_URL": database,
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}", "EMAIL_URL": f"file://{var_dir}/mail",
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # Nothing answers there: a handler that called Stripe would answer 503 (counted).
        "STRIPE_API_BASE": "http://127.0.0.1:9", "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": var_dir, "LOG_LEVEL": "INFO", "DJANGO_SETTINGS_MODULE": "newsroom.settings",
    }  # fmt: skip


def webhook_requests(tag: str, count: int) -> list[bytes]:
    """`count` distinct signed checkout.session.completed POSTs (signed now: Stripe's 5-minute
    tolerance holds for the round's new events and their replays)."""
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


def load(port: int, requests: list[bytes], connections: int, marker: str = "") -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".pickle") as file:
        file.write(pickle.dumps(requests))
        file.flush()
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench/http_load.py"), file.name, "--port", str(port),
             "--connections", str(connections), "--marker", marker],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
    if done.returncode:
        sys.exit(f"the load generator failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def serve(
    env: dict[str, str], port: int, workers: int, log: Path, app: str = "newsroom.wsgi:application"
) -> subprocess.Popen[bytes]:
    """gunicorn with the production config, once it answers."""
    import urllib.request

    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app, "-c", "python:newsroom.gunicorn_conf",
             "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited during start-up; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


def cpu_seconds(pid: int) -> float:
    import psutil

    master = psutil.Process(pid)
    return sum(
        sum(process.cpu_times()[:2]) for process in [master, *master.children(recursive=True)]
    )


def queued_receipts(redis_url: str) -> tuple[int, set[int]]:
    """(messages queued for `send_receipt`, the distinct donation ids they name)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    messages, ids = 0, set()
    for key in client.scan_iter(match="celery*"):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            message = json.loads(raw)
            if message["headers"]["task"] != RECEIPT_TASK:
                continue
            messages += 1
            args, _, _ = json.loads(base64.b64decode(message["body"]))
            ids.add(int(args[0]))
    return messages, ids


def paid_donations(database_url: str, *, sent: bool | None = None) -> set[int]:
    import psycopg

    where = "" if sent is None else f" AND receipt_sent_at IS {'NOT ' if sent else ''}NULL"
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT id FROM donations_donation WHERE status = 'paid'"
            " AND stripe_payment_intent_id LIKE 'pi_bench_%'" + where
        ).fetchall()
        return {row[0] for row in rows}


def stored_events(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as connection:
        found = connection.execute(
            "SELECT count(*) FROM donations_stripeevent WHERE stripe_id LIKE 'evt_bench_%'"
        ).fetchone()
        return int(found[0]) if found else 0


def drain(env: dict[str, str], expected: set[int], log: Path) -> tuple[int, float]:
    """Start a Celery worker (2 processes) and time it sending every queued receipt."""
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-c", "2",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + 600
        sent: set[int] = set()
        while time.monotonic() < deadline and not expected <= sent:
            time.sleep(0.5)
            sent = paid_donations(env["DATABASE_URL"], sent=True)
        return len(sent & expected), time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def spread(values: list[float]) -> str:
    return f"{min(values):7.0f} {statistics.median(values):7.0f} {max(values):7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=1000, help="new payments per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain", action="store_true", help="then send the receipts, timed")
    parser.add_argument("--figures", type=int, default=100_000, help="payments for the figures")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as var_dir:
        port = free_port()
        env = environment(port, var_dir, bench_database())
        subprocess.run(["redis-cli", "-u", env["REDIS_URL"], "flushdb"], check=True,
                       capture_output=True)  # fmt: skip
        manage(env, "migrate", "--noinput")
        log = Path(var_dir, "server.log")
        server = serve(env, port, args.workers, log)
        Path(var_dir, "hello.py").write_text(HELLO)
        bare_port = free_port()
        bare = serve({**env, "PYTHONPATH": var_dir}, bare_port, args.workers,
                     Path(var_dir, "bare.log"), app="hello:app")  # fmt: skip
        results: dict[str, list[dict[str, Any]]] = {
            "bare": [],
            "ceiling": [],
            "new": [],
            "replay": [],
        }
        cpu: dict[str, list[float]] = {"new": [], "replay": []}
        loads = [os.getloadavg()[0]]
        try:
            load(port, webhook_requests("warm", 200), args.connections)
            trivial = [b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"] * (2 * args.events)
            for n in range(args.rounds):
                requests = webhook_requests(str(n), args.events)
                results["bare"].append(load(bare_port, trivial, args.connections))
                results["ceiling"].append(load(port, trivial, args.connections))
                for kind, marker in (("new", '"replay": false'), ("replay", '"replay": true')):
                    before = cpu_seconds(server.pid)
                    results[kind].append(load(port, requests, args.connections, marker))
                    cpu[kind].append((cpu_seconds(server.pid) - before) * 1000 / args.events)
                loads.append(os.getloadavg()[0])
            busy = neighbours()
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=60)
        expected = args.events * args.rounds + 200
        stored = stored_events(env["DATABASE_URL"])
        paid = paid_donations(env["DATABASE_URL"])
        messages, queued_ids = queued_receipts(env["REDIS_URL"])
        log_lines = sum(1 for _ in log.open("rb"))
        drained = drain(env, paid, Path(var_dir, "worker.log")) if args.drain else None
        figures = (
            json.loads(manage(env, "shell", "-c", FIGURES.format(n=args.figures)).splitlines()[-1])
            if args.figures
            else None
        )
        bench_database(drop_only=True)

    print(
        f"gunicorn production config ({args.workers} workers x 8 threads), PostgreSQL, Celery "
        f"broker on Redis (no worker while timed); load generator: a separate process, "
        f"{args.connections} connections; {args.rounds} rounds x {args.events} events; "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':<40} {'min':>7} {'median':>7} {'max':>7}   p50 / p99 ms (median round)")
    for kind, label in (
        ("bare", "ceiling: bare WSGI app, req/s"),
        ("ceiling", "ceiling: Django, /favicon.ico, req/s"),
        ("new", "new payments stored + receipt queued /s"),
        ("replay", "replays answered (nothing made) /s"),
    ):
        rounds = results[kind]
        middle = sorted(rounds, key=lambda r: r["rate"])[len(rounds) // 2]
        print(
            f"{label:<40} {spread([r['rate'] for r in rounds])}   "
            f"{middle['p50']:.1f} / {middle['p99']:.1f}"
        )
    for kind in ("new", "replay"):
        statuses: dict[str, int] = {}
        for result in results[kind]:
            for status, count in result["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        marked = sum(r["marked"] for r in results[kind])
        print(
            f"{kind}: statuses {statuses}; answers saying replay={kind == 'replay'}: {marked}; "
            f"gunicorn CPU per request: median {statistics.median(cpu[kind]):.2f} ms "
            f"(~{1000 * (os.cpu_count() or 1) / statistics.median(cpu[kind]):.0f}/s on idle cores "
            "before PostgreSQL's and Redis' share)"
        )
    print(
        f"made: {stored} events stored for {expected} posted; {len(paid)} paid payments; "
        f"{messages} send_receipt messages queued in Redis for {len(queued_ids & paid)} of them; "
        f"{log_lines} log lines written"
    )
    if drained is not None:
        sent, seconds = drained
        print(f"drain: a Celery worker (2 processes) sent {sent} receipts in {seconds:.1f} s "
              f"({sent / seconds:.0f}/s, from start-up)")  # fmt: skip
    if figures is not None:
        print(
            f"figures page data, {args.figures} payments + {args.figures // 10} recurring gifts: "
            f"median {figures['median']:.0f} ms (min {figures['min']:.0f}, max "
            f"{figures['max']:.0f}), {figures['queries']} queries"
        )
    print(f"load average during rounds: {min(loads):.1f}-{max(loads):.1f}; "
          f"other busy processes: {busy or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
