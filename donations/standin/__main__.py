"""`python -m donations.standin --port 12111 --webhook-url URL --webhook-secret whsec_demo`

Runs the stand-in in the foreground (the run command's demo mode). Prints its URL first.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys

from donations.standin.standin import StripeStandin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m donations.standin",
        description="A local Stripe stand-in (demo mode: no money moves).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--webhook-url", default=None, help="where events are POSTed")
    parser.add_argument("--webhook-secret", default="whsec_demo")
    parser.add_argument(
        "--enabled-events", default="", help="comma-separated types to POST (default: all)"
    )
    parser.add_argument("--public-url", default=None, help="base of hosted page URLs")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="stripe-standin: %(message)s", stream=sys.stderr)
    standin = StripeStandin(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        verbose=not args.quiet,
        enabled_events=tuple(filter(None, args.enabled_events.split(","))),
    )
    standin.bind()
    banner = f"Stripe stand-in (DEMO MODE: no money moves) listening on {standin.url}\n"
    if args.webhook_url:
        banner += f"Stripe stand-in: events are POSTed to {args.webhook_url}\n"
    sys.stdout.write(banner)  # the first line is the URL, for whoever started it
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        standin.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
