"""Benchmark the Friday send: N subscribers, 2 Celery worker processes, PostgreSQL + Redis,
a local SMTP sink on loopback; against a bare smtplib loop to the same sink.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom REDIS_URL=redis://127.0.0.1:6379/5 \
        python bench/newsletter_send.py                      # 10k and 100k subscribers
    python bench/newsletter_send.py --subscribers 1000000    # optional (a full send of 1M)
    python bench/newsletter_send.py --ledger-rows 1000000    # also time the ledger at 1M rows

It creates its own database (`<DATABASE_URL name>_bench`, dropped at the end), migrates it and
uses REDIS_URL's database for the broker (purged). It prints, per N: messages per second of
the whole pipeline (claiming the issue and creating the delivery rows included), the peak RSS
of each worker process, the queries per batch (measured in this process on one batch), and the
rate of a bare smtplib loop sending one prebuilt message over one connection to the same sink,
with the ratio of the two. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


# --- the SMTP sink, in its own process ------------------------------------------------------
def run_sink(port_queue: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    class EphemeralPortController(Controller):
        def _trigger_server(self) -> None:  # aiosmtpd 1.4 checks `self.port`: learn it first
            server: Any = self.server
            self.port = int(server.sockets[0].getsockname()[1])
            super()._trigger_server()

    controller = EphemeralPortController(Sink(), hostname="127.0.0.1", port=0)
    controller.start()
    port_queue.put(controller.port)
    stop.wait()
    controller.stop()


# --- setup ----------------------------------------------------------------------------------
def bench_database_url(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must be PostgreSQL (the send relies on its row locks)")
    name = parts.path.lstrip("/") + "_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def environment(
    database_url: str, redis_url: str, smtp_port: int, batch_size: int
) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "SITE_URL": "https://news.example.org",
        "ALLOWED_HOSTS": "news.example.org",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "EMAIL_TIMEOUT": "30",
        "NEWSLETTER_BATCH_SIZE": str(batch_size),
        "LOG_LEVEL": "WARNING",
    }


def fill_subscribers(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE newsletter_delivery, newsletter_issueitem, newsletter_issue, "
            "newsletter_subscriber"
        )
        cursor.execute(
            "INSERT INTO newsletter_subscriber (created_at, updated_at, email, status, source, "
            "consent_policy_version, consent_source, consent_at, confirmed_at) "
            "SELECT now(), now(), 'reader' || n || '@example.org', 'active', 'bench', 'bench', "
            "'bench', now(), now() FROM generate_series(1, %s) AS n",
            [count],
        )


def make_issue(subject: str) -> Any:
    from newsletter.demo import DEMO_INTRO, DEMO_ITEMS
    from newsletter.models import Issue, IssueItem

    issue = Issue.objects.create(subject=subject, preheader="Bench", intro=DEMO_INTRO)
    IssueItem.objects.bulk_create(
        IssueItem(issue=issue, section=s, title=t, url=f"https://news.example.org/{slug}/",
                  summary=summary, position=n)
        for n, (s, t, slug, summary) in enumerate(DEMO_ITEMS)
    )  # fmt: skip
    return issue


# --- measurements ---------------------------------------------------------------------------
def queries_per_batch(batch_size: int) -> tuple[int, int]:
    """Run one batch in this process with a query counter: (queries, messages sent)."""
    from django.db import connection
    from django.utils import timezone

    from newsletter.models import Issue
    from newsletter.sending import send_batch
    from newsletter.services.sends import deliveries_create

    issue = make_issue("Query count")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    deliveries_create(issue_id=issue.pk, now=timezone.now())
    count = [0]

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        result = send_batch(issue_id=issue.pk, batch_size=batch_size)
    Issue.objects.filter(pk=issue.pk).delete()
    return count[0], result.sent


def bare_smtplib_rate(port: int, messages: int) -> float:
    from django.core.mail import get_connection

    from newsletter.rendering import render_issue
    from newsletter.sending.messages import MessageFactory

    issue = make_issue("Bare loop")
    factory = MessageFactory(issue=issue, rendered=render_issue(issue), connection=get_connection())
    data = factory.build(subscriber_id=1, email="reader1@example.org", show_ask=True).message()
    payload = data.as_bytes(linesep="\r\n")
    issue.delete()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        started = time.perf_counter()
        for _ in range(messages):
            smtp.sendmail("news@news.example.org", ["reader1@example.org"], payload)
        return messages / (time.perf_counter() - started)


def ledger_timings(count: int, batch_size: int) -> None:
    """The ledger at size: one-statement delivery rows, and a claim early and late in a send."""
    from django.db import connection
    from django.utils import timezone

    from newsletter.models import Delivery, Issue
    from newsletter.sending.claims import claim_batch, release
    from newsletter.services.sends import deliveries_create

    fill_subscribers(count)
    issue = make_issue("Ledger")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    started = time.perf_counter()
    created = deliveries_create(issue_id=issue.pk, now=timezone.now())
    insert = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE newsletter_delivery")

    def one_claim() -> float:
        started = time.perf_counter()
        claim, rows = claim_batch(
            issue_id=issue.pk, size=batch_size, lease_seconds=60, now=timezone.now()
        )
        elapsed = time.perf_counter() - started
        release(delivery_ids=[row.delivery_id for row in rows], claim=claim)
        return elapsed

    early = one_claim()
    cutoff = Delivery.objects.filter(issue=issue).order_by("id").values_list("id", flat=True)
    last_sent = cutoff[int(created * 0.9)]
    Delivery.objects.filter(issue=issue, id__lt=last_sent).update(
        status=Delivery.Status.SENT, sent_at=timezone.now()
    )
    stale = one_claim()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE newsletter_delivery")  # what autoanalyze does during a send
    fresh, again = one_claim(), one_claim()
    print(f"ledger of {created:,} rows: created in {insert:.1f} s (one INSERT ... SELECT); "
          f"claiming {batch_size} rows: {early * 1000:.0f} ms at the start; with 90% sent, "
          f"{stale * 1000:.0f} ms on stale statistics, {fresh * 1000:.0f} ms and then "
          f"{again * 1000:.0f} ms once analyzed", flush=True)  # fmt: skip


class RSSWatcher:
    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peaks: dict[int, int] = {}

    def sample(self) -> None:
        import psutil

        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in processes:
            try:
                rss = process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    log_path = ROOT / "var" / "bench-worker.log"
    log_path.unlink(missing_ok=True)
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "--loglevel", "INFO",
         "--concurrency", str(concurrency), "--without-heartbeat", "--without-gossip",
         "--without-mingle", "--hostname", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the worker did not start; see {log_path}")
        time.sleep(0.2)
    return process


def run_send(count: int, env: dict[str, str], workers: int) -> tuple[float, list[int]]:
    from newsletter.models import Delivery, Issue
    from newsletter.services.issues import issue_send_now

    fill_subscribers(count)
    worker = start_worker(env, workers)
    watcher = RSSWatcher(worker.pid)
    try:
        issue = make_issue(f"Bench {count}")
        started = time.perf_counter()
        issue_send_now(issue=issue)
        while Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).exists():
            watcher.sample()
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        sent = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count()
        if sent != count:
            print(f"  warning: {sent} of {count} sent", flush=True)
        children = [pid for pid in watcher.peaks if pid != worker.pid]
        return count / elapsed, [watcher.peaks[pid] for pid in children]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=2, help="worker processes (pool size)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--bare-messages", type=int, default=5_000)
    parser.add_argument(
        "--ledger-rows",
        type=int,
        default=0,
        help="also time the ledger alone at this size: creating the delivery rows in one "
        "statement, and claiming a batch at the start and when 90%% are sent",
    )
    args = parser.parse_args()

    database_url, admin_url, name = bench_database_url(os.environ.get("DATABASE_URL", ""))
    redis_url = os.environ.get("REDIS_URL") or sys.exit("REDIS_URL must be set")
    (ROOT / "var").mkdir(exist_ok=True)
    ports: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(ports, stop), daemon=True)
    sink.start()
    port = ports.get(timeout=30)
    env = environment(database_url, redis_url, port, args.batch_size)
    os.environ.update(env)
    recreate_database(admin_url, name)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        import django

        django.setup()
        from newsroom.celery_app import app

        with app.connection_for_write() as conn:
            app.control.purge(connection=conn)
        fill_subscribers(args.batch_size)
        queries, sent = queries_per_batch(args.batch_size)
        small_queries, small_sent = queries_per_batch(max(args.batch_size // 10, 1))
        print(f"queries per batch: {queries} for {sent} messages, {small_queries} for "
              f"{small_sent} ({queries - sent} and {small_queries - small_sent} besides the "
              "one mark per message)", flush=True)  # fmt: skip
        if args.ledger_rows:
            ledger_timings(args.ledger_rows, args.batch_size)
        for count in args.subscribers:
            # The bare loop right before each run, so both see the same machine load.
            bare = bare_smtplib_rate(port, args.bare_messages)
            rate, peaks = run_send(count, env, args.workers)
            memory = ", ".join(f"{peak / 2**20:.0f} MiB" for peak in sorted(peaks))
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            print(f"{count:>9,} subscribers: {rate:,.0f} messages/s; bare smtplib loop (one "
                  f"prebuilt message, one connection) {bare:,.0f} messages/s; ratio "
                  f"{rate / bare:.2f}; peak RSS per worker process: {memory}; "
                  f"load average {load}", flush=True)  # fmt: skip
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(admin_url, name, drop_only=True)
        stop.set()
        sink.join(timeout=10)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
