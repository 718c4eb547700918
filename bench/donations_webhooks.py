"""Stripe's webhook under production conditions: new payments/s and replays/s, several rounds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nr_webhook_bench \
      REDIS_URL=redis://127.0.0.1:6379/14 python bench/donations_webhooks.py [--drain]
    ... --rounds 5 --events 1000 --connections 16 --workers 2 --figures 100000
    ... --baseline /tmp/main-code   # another checkout (git archive main), run alternately

The server is the production one: gunicorn with `newsroom.gunicorn_conf` (gthread threads,
access log on), DEBUG off, log level INFO (the lines go to a file), PostgreSQL, and
Celery's broker on Redis with no worker running, so each paid payment's receipt is queued by
`delay_on_commit` exactly as in production and stays in the queue. The load generator
(`bench/http_load.py`) is a separate process with `--connections` keep-alive connections.
Each round posts `--events` distinct signed `checkout.session.completed` events (a new donor
and a new paid one-time payment each), then the same requests again (replays: 200, nothing
made). Each round also measures two ceilings with the same generator and connections: a bare
WSGI app under the same gunicorn config (the harness itself), and `GET /favicon.ico` on the
server (Django's whole middleware stack and a redirect, no database; `/healthz` opens a broker
connection per call, so it is no ceiling). Rates are min / median / max over the rounds, with
gunicorn's own CPU per request (user + system of its processes: time spent waiting for a core
on a shared machine does not count).

With `--baseline DIR` a second server runs that checkout's code (its own database, the same
Redis db) and the rounds alternate between the two, so a busy machine weighs on both alike;
its receipt messages are counted and removed from the queue after each of its rounds.

At the end it checks what was made: one stored event, one paid payment and one queued
`send_receipt` message (counted in Redis) per event. `--drain` then starts a Celery worker and
times it sending every receipt (to files). `--figures N` times the staff figures page's data
over N synthetic payments (0 skips it).

Databases are the bench's own, `<DATABASE_URL's name>_bench_<side>` (created, migrated,
dropped at the end; the one named is never touched); only the Redis db given is flushed.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import webhook_sides as sides  # noqa: E402
from bench.appeal_page import cpu_ticks, free_port, neighbours, stolen_since  # noqa: E402

FIGURES = """
import json, statistics, time
from decimal import Decimal
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from donations.figures import figures
from donations.models import Dispute, Donation, RecurringDonation
n, now, day = {n}, timezone.now(), timezone.timedelta(days=1)
Donation.objects.bulk_create((Donation(frequency=("once", "monthly", "annual")[i % 3],
    amount=Decimal(5 + i % 50), currency=("usd", "eur", "gbp")[i % 3], status="paid",
    paid_at=now - (i % 120) * day, stripe_payment_intent_id=f"pi_fill_{{i}}")
    for i in range(n)), batch_size=5000)
Dispute.objects.bulk_create((Dispute(donation_id=pk, stripe_dispute_id=f"dp_fill_{{pk}}",
    amount=amount, currency=currency, stripe_status=("needs_response", "won", "lost")[pk // 50 % 3],
    outcome=("open", "won", "lost")[pk // 50 % 3]) for pk, amount, currency in
    Donation.objects.filter(stripe_payment_intent_id__startswith="pi_fill_")
    .values_list("pk", "amount", "currency") if pk % 50 == 0), batch_size=5000)
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
WARM = 200  # events per side before the rounds (imports, connections, caches)


def load(port: int, requests: list[bytes], connections: int, marker: str = "") -> dict[str, Any]:
    """One run of the load generator, in a process of its own."""
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


def post(side: sides.Side, tag: str, events: int, connections: int, queued: dict[str, int]) -> None:
    """Warm-up posts; a baseline's receipts are counted and taken off the queue."""
    before = sides.queue_length(side.env["REDIS_URL"])
    load(side.port, sides.webhook_requests(tag, events), connections)
    if side.name == "baseline":
        added = sides.queue_length(side.env["REDIS_URL"]) - before
        queued[side.name] += sides.queue_take(side.env["REDIS_URL"], added)


def spread(values: list[float]) -> str:
    return f"{min(values):7.0f} {statistics.median(values):7.0f} {max(values):7.0f}"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=1000, help="new payments per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=Path, help="another checkout, run alternately")
    parser.add_argument("--drain", action="store_true", help="then send the receipts, timed")
    parser.add_argument("--figures", type=int, default=100_000, help="payments for the figures")
    return parser.parse_args()


@dataclass
class Run:
    """What one bench run measured and found."""

    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # gunicorn's, ms per request
    pg_cpu: dict[str, list[float]] = field(default_factory=dict)  # its PostgreSQL backends'
    queued: dict[str, int] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    queued_ids: set[int] = field(default_factory=set)
    drained: tuple[int, float] | None = None
    figures: dict[str, float] | None = None
    log_lines: int = 0
    busy: str = ""
    stolen: str = "unknown"


def rounds(args: argparse.Namespace, runs: list[sides.Side], bare: sides.Side, run: Run) -> None:
    """The timed part: ceilings, then each side's new events and their replays, alternating."""
    this = runs[0]
    trivial = [b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"] * (2 * args.events)
    for n in range(args.rounds):
        run.results.setdefault("bare", []).append(load(bare.port, trivial, args.connections))
        before = sides.cpu_seconds(this)
        run.results.setdefault("ceiling", []).append(load(this.port, trivial, args.connections))
        run.cpu.setdefault("ceiling", []).append(
            (sides.cpu_seconds(this) - before) * 1000 / len(trivial)
        )
        for side in runs if n % 2 == 0 else runs[::-1]:
            requests = sides.webhook_requests(f"{side.name}{n}", args.events)
            for kind, marker in (("new", '"replay": false'), ("replay", '"replay": true')):
                key, redis_url = f"{side.name} {kind}", side.env["REDIS_URL"]
                before, length = sides.cpu_seconds(side), sides.queue_length(redis_url)
                database = sides.postgres_cpu(side)
                run.results.setdefault(key, []).append(
                    load(side.port, requests, args.connections, marker)
                )
                used = sides.cpu_seconds(side) - before
                run.cpu.setdefault(key, []).append(used * 1000 / args.events)
                run.pg_cpu.setdefault(key, []).append(
                    sides.postgres_cpu_since(side, database) * 1000 / args.events
                )
                if side.name == "baseline":
                    added = sides.queue_length(redis_url) - length
                    run.queued["baseline"] += sides.queue_take(redis_url, added)
            run.loads.append(os.getloadavg()[0])


def main() -> None:
    args = arguments()
    roots = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    run = Run(loads=[os.getloadavg()[0]])
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        runs: list[sides.Side] = []
        for name, root in roots.items():
            port, var_dir = free_port(), Path(tmp, name)
            var_dir.mkdir()
            env = sides.environment(port, var_dir, sides.bench_database(name))
            runs.append(sides.Side(name, root, env, port))
        this = runs[0]
        subprocess.run(["redis-cli", "-u", this.env["REDIS_URL"], "flushdb"], check=True,
                       capture_output=True)  # fmt: skip
        Path(tmp, "hello.py").write_text(sides.HELLO)
        bare = sides.Side("bare", ROOT, {**this.env, "PYTHONPATH": tmp}, free_port())
        run.queued = {side.name: 0 for side in runs}
        try:
            for side in runs:
                sides.manage(side, "migrate", "--noinput")
                sides.manage(side, "collectstatic", "--noinput")
                sides.serve(side, args.workers)
            sides.serve(bare, args.workers, app="hello:app")
            for side in runs:
                post(side, f"warm{side.name}", WARM, args.connections, run.queued)
            ticks = cpu_ticks()
            rounds(args, runs, bare, run)
            run.stolen = stolen_since(ticks)
            run.busy = neighbours()
        finally:
            for side in [*runs, bare]:
                sides.stop(side)
        run.found = {side.name: sides.made(side.database) for side in runs}
        run.queued["this"], run.queued_ids = sides.queued_receipts(this.env["REDIS_URL"])
        if args.drain:
            run.drained = sides.drain(this, run.found["this"]["paid"])
        if args.figures:
            shell = sides.manage(this, "shell", "-c", FIGURES.format(n=args.figures))
            run.figures = json.loads(shell.splitlines()[-1])
        with Path(tmp, "this", "this.log").open("rb") as log:
            run.log_lines = sum(1 for _ in log)
        for side in runs:
            sides.bench_database(side.name, drop_only=True)
    report(args, [side.name for side in runs], run)


def report(args: argparse.Namespace, names: list[str], run: Run) -> None:
    print(
        f"gunicorn production config ({args.workers} workers, newsroom.gunicorn_conf's threads), "
        "PostgreSQL, Celery "
        f"broker on Redis (no worker while timed); load generator: a separate process, "
        f"{args.connections} connections; {args.rounds} rounds x {args.events} events per side; "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':<44} {'min':>7} {'median':>7} {'max':>7}   p50 / p99 ms (median round)")
    labels = {
        "bare": "ceiling: bare WSGI app, req/s",
        "ceiling": "ceiling: Django, /favicon.ico, req/s",
        **{f"{name} new": f"{name}: new payments + receipt queued /s" for name in names},
        **{f"{name} replay": f"{name}: replays answered, nothing made /s" for name in names},
    }
    for key, label in labels.items():
        middle = sorted(run.results[key], key=lambda r: r["rate"])[len(run.results[key]) // 2]
        print(
            f"{label:<44} {spread([r['rate'] for r in run.results[key]])}   "
            f"{middle['p50']:.1f} / {middle['p99']:.1f}"
        )
    cores = os.cpu_count() or 1
    for key, values in run.cpu.items():
        statuses: dict[str, int] = {}
        for result in run.results[key]:
            for status, count in result["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        marked, per = sum(r["marked"] for r in run.results[key]), statistics.median(values)
        said = f", {marked} saying so" if key != "ceiling" else ""
        line = f"{key}: statuses {statuses}{said}; CPU per request: gunicorn {per:.2f} ms"
        if key in run.pg_cpu:
            database = statistics.median(run.pg_cpu[key])
            line += (
                f" + PostgreSQL {database:.2f} ms = {per + database:.2f} ms (medians): "
                f"~{1000 * cores / (per + database):.0f}/s on {cores} idle cores"
            )
        print(line)
    expected = args.events * args.rounds + WARM
    for name in names:
        found = run.found[name]
        distinct = len(run.queued_ids & found["paid"]) if name == "this" else None
        print(
            f"made ({name}): {found['events']} events stored for {expected} posted, "
            f"{len(found['paid'])} paid payments, {run.queued[name]} send_receipt messages queued"
            + (f" naming {distinct} distinct payments of them" if distinct is not None else "")
        )
    print(f"log lines written by this side's server: {run.log_lines}")
    if run.drained is not None:
        sent, seconds = run.drained
        print(f"drain: a Celery worker (2 processes) sent {sent} receipts in {seconds:.1f} s "
              f"({sent / seconds:.0f}/s, from start-up)")  # fmt: skip
    if run.figures is not None:
        print(
            f"figures page data, {args.figures} payments (2% disputed: open, won, lost) + "
            f"{args.figures // 10} recurring gifts: "
            f"median {run.figures['median']:.0f} ms (min {run.figures['min']:.0f}, max "
            f"{run.figures['max']:.0f}), {run.figures['queries']:.0f} queries"
        )
    print(f"load average during rounds: {min(run.loads):.1f}-{max(run.loads):.1f}; "
          f"other busy processes: {run.busy or 'none'}; CPU taken by the virtual machine's host "
          f"(steal) during rounds: {run.stolen}")  # fmt: skip


if __name__ == "__main__":
    main()
