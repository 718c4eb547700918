"""Benchmark the Stripe webhook endpoint and the staff figures page on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom python bench/donations_webhooks.py
    python bench/donations_webhooks.py --events 5000 --donations 200000

It creates its own database (`<DATABASE_URL name>_bench_donations`, dropped at the end) and
migrates it. In one process it posts signed `checkout.session.completed` events (distinct
payments, each recorded with its donor and payment, receipt task queued on commit and run
inline to an in-memory mailbox) through Django's full request stack, then the same events
again (replays), printing events per second and latency percentiles. Then it fills the
tables with synthetic payments and recurring gifts and times the figures page's queries.
It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must be PostgreSQL")
    name = parts.path.lstrip("/") + "_bench_donations"
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path="/" + name)),
        name,
    )


def recreate(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def post_all(client: object, payloads: list[bytes]) -> tuple[float, list[float]]:
    from tests.donations.stripe_events import WEBHOOK_PATH, signature_header

    latencies = []
    start = time.perf_counter()
    for payload in payloads:
        t0 = time.perf_counter()
        response = client.post(  # type: ignore[attr-defined]
            WEBHOOK_PATH, data=payload, content_type="application/json",
            headers={"Stripe-Signature": signature_header(payload)},
        )  # fmt: skip
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    return time.perf_counter() - start, latencies


def report(label: str, n: int, elapsed: float, latencies: list[float]) -> None:
    print(
        f"{label:<34} {n / elapsed:8.0f} events/s   p50 {statistics.median(latencies):5.1f} ms"
        f"   p95 {percentile(latencies, 0.95):5.1f} ms   p99 {percentile(latencies, 0.99):5.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--donations", type=int, default=100_000)
    args = parser.parse_args()
    admin_url, url, name = bench_database(os.environ.get("DATABASE_URL", ""))
    recreate(admin_url, name)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="tests.settings")
    os.environ.pop("REDIS_URL", None)  # the cache and broker are not what is measured here
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ
        )
        run(args.events, args.donations)
    finally:
        from django.db import connections

        connections.close_all()
        recreate(admin_url, name, drop_only=True)


def run(events: int, donations: int) -> None:
    import django

    django.setup()
    from django.core import mail
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from tests.donations.stripe_events import stripe_event

    setup_test_environment()  # locmem email, ALLOWED_HOSTS testserver
    logging.disable(logging.INFO)  # one log line per event to a terminal is not what we measure
    payloads = []
    for n in range(events):
        event = stripe_event(
            "checkout_session_completed_once", event_id=f"evt_bench_{n}", id=f"cs_bench_{n}",
            payment_intent=f"pi_bench_{n}", customer=f"cus_bench_{n}",
            customer_details={"email": f"reader{n}@example.org", "name": ""},
        )  # fmt: skip
        payloads.append(json.dumps(event).encode())
    client = Client()
    print(f"PostgreSQL, one process, Django test client, {events} events")
    elapsed, latencies = post_all(client, payloads)
    report("new payments (+ receipt inline)", events, elapsed, latencies)
    elapsed, latencies = post_all(client, payloads)
    report("replays (answered 200, no-op)", events, elapsed, latencies)
    print(f"receipts sent: {len(mail.outbox)} for {events} payments")

    fill(donations)
    from donations.figures import figures

    figures()  # warm
    timings = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            with transaction.atomic():
                figures()
            timings.append((time.perf_counter() - t0) * 1000)
    print(
        f"figures page data, {donations} payments (2% disputed) + {donations // 10} recurring "
        f"gifts: min {min(timings):.0f} / median {statistics.median(timings):.0f} / max "
        f"{max(timings):.0f} ms over {len(timings)} rounds, {len(queries)} queries"
    )


def fill(donations: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO donations_donation (created_at, updated_at, frequency, amount, currency,
                status, paid_at, amount_refunded, source_page, stripe_payment_intent_id,
                stripe_charge_id, is_first_payment)
            SELECT now(), now(), (ARRAY['once','monthly','annual'])[1 + n %% 3], 5 + n %% 50,
                (ARRAY['usd','eur','gbp'])[1 + n %% 3], 'paid',
                now() - (n %% 120) * interval '1 day', 0, '', 'pi_fill_' || n, '', false
            FROM generate_series(1, %s) AS n
            """,
            [donations],
        )
        cursor.execute(  # one payment in 50 disputed: open, won or lost in turn
            """
            INSERT INTO donations_dispute (created_at, updated_at, donation_id,
                stripe_dispute_id, amount, currency, stripe_status, outcome,
                status_changed_by_event_at)
            SELECT now(), now(), id, 'dp_fill_' || id, amount, currency,
                (ARRAY['needs_response','won','lost'])[1 + (id / 50) %% 3],
                (ARRAY['open','won','lost'])[1 + (id / 50) %% 3], 0
            FROM donations_donation WHERE stripe_payment_intent_id LIKE 'pi_fill_%%'
                AND id %% %s = 0
            """,
            [50],
        )
        cursor.execute(
            """
            INSERT INTO donations_recurringdonation (created_at, updated_at,
                stripe_subscription_id, stripe_customer_id, frequency, amount, currency, status,
                started_at, cancelled_at, status_changed_by_event_at, paused,
                terms_changed_by_event_at)
            SELECT now(), now(), 'sub_fill_' || n, '', (ARRAY['monthly','annual'])[1 + n %% 2],
                5 + n %% 20, 'usd', CASE WHEN n %% 7 = 0 THEN 'cancelled' ELSE 'active' END,
                now() - (n %% 100) * interval '1 day',
                CASE WHEN n %% 7 = 0 THEN now() - (n %% 30) * interval '1 day' END, 0, false, 0
            FROM generate_series(1, %s) AS n
            """,
            [donations // 10],
        )
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
