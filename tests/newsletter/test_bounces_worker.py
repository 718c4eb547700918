"""Production's shape: `manage.py bounce_listener` as its own process, a real Celery worker on
Redis and PostgreSQL. A bounce handed to the listener over SMTP reaches the worker through the
broker and takes the address off the list; the listener never relays."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from newsletter.models import Subscriber
from tests.celery_worker import ROOT
from tests.newsletter.bounce_samples import BOUNCE_DOMAIN, deliver_to_port, sample, sent_delivery
from tests.services import need_postgresql

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listener_process() -> Iterator[int]:
    """`python manage.py bounce_listener` on a free port, with production settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DEBUG": "true",  # no production secrets needed; the listener touches no database
        "BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "BOUNCE_LISTEN": "127.0.0.1:0",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "bounce_listener"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("bounce listener on 127.0.0.1:"), line
        yield int(line.split(":")[1].split()[0])
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0  # SIGTERM is a clean stop


@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_a_bounce_through_the_listener_process_and_a_real_worker_suppresses(
    celery_worker_process: Any, listener_process: int
) -> None:
    need_postgresql()
    celery_worker_process().start()
    sent = sent_delivery()

    with smtplib.SMTP("127.0.0.1", listener_process, timeout=15) as client:
        client.ehlo("mx1.news.example.org")
        client.mail("")
        assert client.rcpt("reader@example.org")[0] == 550  # never a relay
    deliver_to_port(listener_process, sample("postfix_user_unknown.eml", sent), to=sent.verp)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent.subscriber.refresh_from_db()
        if sent.subscriber.status == Subscriber.Status.BOUNCED:
            break
        time.sleep(0.2)
    assert sent.subscriber.status == Subscriber.Status.BOUNCED
