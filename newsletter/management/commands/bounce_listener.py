"""Run the bounce listener until SIGTERM or Ctrl-C: `python manage.py bounce_listener`.

It binds BOUNCE_LISTEN (or `--listen host:port`) and takes mail for BOUNCE_DOMAIN only; the
newsroom's MX forwards the bounce domain's mail to it (see the README).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletter.bounces.listener import BounceListener, parse_listen


class Command(BaseCommand):
    help = "Receive bounces and complaints for BOUNCE_DOMAIN over SMTP (BOUNCE_LISTEN)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", metavar="HOST:PORT", help="Override BOUNCE_LISTEN.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.BOUNCE_DOMAIN:
            raise CommandError("BOUNCE_DOMAIN is not set: there is no bounce address to serve.")
        listen = options["listen"] or settings.BOUNCE_LISTEN
        if not listen:
            raise CommandError("Set BOUNCE_LISTEN (e.g. 127.0.0.1:2525) or pass --listen.")
        try:
            host, port = parse_listen(listen)
        except ValueError as error:
            raise CommandError(str(error)) from error
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        listener = BounceListener(host, port)
        listener.start()
        self.stdout.write(
            f"bounce listener on {host}:{listener.bound_port} for @{settings.BOUNCE_DOMAIN}"
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            listener.stop()
