"""`python -m tests.provider_standin [--delay 0.03]`: the Mailgun stand-in in the foreground,
counting calls and recipients only (the bench). Prints its port first."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from tests.provider_standin import ProviderStandin


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.provider_standin")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    standin = ProviderStandin(delay=args.delay, keep=False).start()
    sys.stdout.write(f"{standin.port}\n")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    standin.stop()


if __name__ == "__main__":
    main()
