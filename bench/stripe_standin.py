"""How fast the local Stripe stand-in answers the real SDK and delivers signed webhooks, so
a slow test can be told apart from a slow stand-in. Prints figures; asserts nothing.

    python bench/stripe_standin.py [--sessions 500]

1. Checkout Session creates through `stripe.StripeClient` (one thread, one request each, each
   with its own idempotency key), next to bare `http.client` POSTs of the same form body to the
   same server: the difference is the SDK's own cost.
2. Paying those sessions (subscription mode: 7 events each) with webhooks POSTed to a local
   receiver that answers 200: events emitted, and deliveries per second until all are in.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import stripe

from donations.standin import StripeStandin

PARAMS: dict[str, Any] = {
    "mode": "subscription",
    "submit_type": "donate",
    "line_items": [
        {
            "quantity": 1,
            "price_data": {
                "currency": "eur",
                "unit_amount": 1000,
                "product_data": {"name": "Monthly donation"},
                "recurring": {"interval": "month"},
            },
        }
    ],
    "success_url": "http://127.0.0.1/thanks?session_id={CHECKOUT_SESSION_ID}",
    "customer_email": "bench@example.org",
    "metadata": {"frequency": "monthly"},
}
FORM = urlencode(
    {
        "mode": "subscription",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "1000",
        "line_items[0][price_data][product_data][name]": "Monthly donation",
        "line_items[0][price_data][recurring][interval]": "month",
        "success_url": "http://127.0.0.1/thanks?session_id={CHECKOUT_SESSION_ID}",
    }
)


class _Sink(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def sdk_creates(standin: StripeStandin, count: int) -> tuple[list[str], float]:
    client = stripe.StripeClient(
        "sk_test_bench", base_addresses={"api": standin.url}, max_network_retries=0
    )
    started = time.perf_counter()
    ids = [
        client.v1.checkout.sessions.create(
            params=PARAMS,  # type: ignore[arg-type]
            options={"idempotency_key": f"bench-{i}"},
        ).id
        for i in range(count)
    ]
    return ids, time.perf_counter() - started


def bare_creates(standin: StripeStandin, count: int) -> float:
    headers = {
        "Authorization": "Bearer sk_test_bench",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    started = time.perf_counter()
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=10)
        conn.request("POST", "/v1/checkout/sessions", body=FORM, headers=headers)
        conn.getresponse().read()
        conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=500)
    count = parser.parse_args().sessions
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    sink.daemon_threads = True
    sink_thread = threading.Thread(target=sink.serve_forever, daemon=True)
    sink_thread.start()
    standin = StripeStandin(
        webhook_url=f"http://127.0.0.1:{sink.server_address[1]}/stripe/webhook/"
    ).start()
    try:
        ids, sdk_seconds = sdk_creates(standin, count)
        bare_seconds = bare_creates(standin, count)
        started = time.perf_counter()
        for session_id in ids:
            standin.pay(session_id, email="bench@example.org")
        paid_seconds = time.perf_counter() - started
        standin.wait_for_webhooks(timeout=600)
        delivered_seconds = time.perf_counter() - started
        events = len(standin.events())
        ok = sum(1 for a in standin.webhook_attempts() if a["status"] == 200)
    finally:
        standin.stop()
        sink.shutdown()
        sink.server_close()
    rows = [
        ("sessions created via the SDK", count / sdk_seconds, f"{count} in {sdk_seconds:.2f} s"),
        ("same POST, bare http.client", count / bare_seconds, f"{count} in {bare_seconds:.2f} s"),
        ("sessions paid (Python API)", count / paid_seconds, f"{events} events"),
        ("webhooks delivered (200)", ok / delivered_seconds,
         f"{ok} of {events} in {delivered_seconds:.2f} s"),
    ]  # fmt: skip
    for label, rate, detail in rows:
        print(f"{label:<34} {rate:8.0f} /s  ({detail})")


if __name__ == "__main__":
    main()
