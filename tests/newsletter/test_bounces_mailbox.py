"""Bounces read from an IMAP mailbox (BOUNCE_IMAP_URL) by the beat task: a real IMAP server
(pymap, in memory) holds the samples as a mail server would file them; the task applies each,
empties the mailbox, and retries later when the server cannot be reached."""

from __future__ import annotations

import imaplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from newsletter.bounces.mailbox import mailbox_read
from newsletter.models import Delivery, Subscriber
from newsletter.tasks.bounces import read_bounce_mailbox
from newsroom.errors import TransientError
from tests.newsletter.bounce_samples import (
    BOUNCE_DOMAIN,
    FEEDBACK_ADDRESS,
    Sent,
    sample,
    sent_delivery,
)

pytestmark = pytest.mark.django_db
USER, PASSWORD = "bounces", "imap-test-password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def imap_port() -> Iterator[int]:
    """pymap's in-memory IMAP server on a free loopback port, one mailbox user."""
    pymap = Path(sys.executable).parent / "pymap"
    for _ in range(3):  # the port was free a moment ago; another process may take it first
        port = _free_port()
        process = subprocess.Popen(
            [str(pymap), "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict",
             "--demo-user", USER, "--demo-password", PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        if process.poll() is None:
            try:
                yield port
            finally:
                process.terminate()
                process.wait(timeout=15)
            return
    pytest.fail("pymap did not start")


def file_in_mailbox(port: int, *messages: bytes) -> None:
    with imaplib.IMAP4("127.0.0.1", port, timeout=10) as imap:
        imap.login(USER, PASSWORD)
        for message in messages:
            imap.append("INBOX", "", "", message)


def mailbox_count(port: int) -> int:
    with imaplib.IMAP4("127.0.0.1", port, timeout=10) as imap:
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        _, data = imap.uid("SEARCH", "ALL")
        return len(data[0].split())


def filed(name: str, sent: Sent, *, to: str | None = None) -> bytes:
    """A report as the mail server files it: with the envelope recipient in Delivered-To."""
    return f"Delivered-To: {to or sent.verp}\r\n".encode() + sample(name, sent)


def forged(data: bytes, sent: Sent) -> bytes:
    """The same report with every token of ours replaced by one we never made."""
    token = sent.verp.split("+", 1)[1].split("@")[0].encode()
    unsubscribe = data.split(b"/newsletter/unsubscribe/", 1)[1].split(b"/", 1)[0]
    return data.replace(token, b"c" * 45).replace(unsubscribe, b"1:forged")


def url(port: int) -> str:
    return f"imap://{USER}:{PASSWORD}@127.0.0.1:{port}/INBOX"


@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_the_beat_task_applies_each_report_and_empties_the_mailbox(imap_port: int) -> None:
    hard, complaint, reply, other = (sent_delivery() for _ in range(4))
    file_in_mailbox(
        imap_port,
        filed("postfix_user_unknown.eml", hard),
        filed("yahoo_arf_complaint.eml", complaint, to=FEEDBACK_ADDRESS),
        filed("outlook_auto_reply.eml", reply),
        forged(filed("postfix_user_unknown.eml", other), other),
    )
    with override_settings(BOUNCE_IMAP_URL=url(imap_port)):
        assert read_bounce_mailbox.apply().get() == 2

    statuses = dict(Subscriber.objects.values_list("pk", "status"))
    assert statuses[hard.subscriber.pk] == Subscriber.Status.BOUNCED
    assert hard.delivery().status == Delivery.Status.BOUNCED
    assert statuses[complaint.subscriber.pk] == Subscriber.Status.COMPLAINED
    assert statuses[reply.subscriber.pk] == Subscriber.Status.ACTIVE
    assert statuses[other.subscriber.pk] == Subscriber.Status.ACTIVE
    assert mailbox_count(imap_port) == 0
    with override_settings(BOUNCE_IMAP_URL=url(imap_port)):
        assert read_bounce_mailbox.apply().get() == 0  # an empty mailbox: nothing to do


@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN, BOUNCE_MAX_BYTES=64 * 1024)
def test_an_oversized_message_is_deleted_unread(imap_port: int) -> None:
    sent = sent_delivery()
    big = filed("postfix_user_unknown.eml", sent) + (b"x" * 76 + b"\r\n") * 1200
    file_in_mailbox(imap_port, big)
    assert mailbox_read(url=url(imap_port)) == 0
    assert sent.delivery().status == Delivery.Status.SENT
    assert mailbox_count(imap_port) == 0


def test_an_unreachable_or_refusing_server_is_a_transient_error(imap_port: int) -> None:
    with pytest.raises(TransientError):
        mailbox_read(url=f"imap://{USER}:wrong-password@127.0.0.1:{imap_port}/INBOX")
    with pytest.raises(TransientError):
        mailbox_read(url=f"imap://{USER}:{PASSWORD}@127.0.0.1:{_free_port()}/INBOX")


def test_beat_reads_the_mailbox_only_when_one_is_configured() -> None:
    from newsroom.celery_app import app, setup_beat_schedule

    try:
        with override_settings(BOUNCE_IMAP_URL="imaps://u:p@mail.example.org/INBOX"):
            setup_beat_schedule(app)
            entry = app.conf.beat_schedule["newsletter-read-bounce-mailbox"]
            assert entry["task"] == "newsletter.tasks.read_bounce_mailbox"
            assert entry["schedule"] == 300.0
        setup_beat_schedule(app)
        assert "newsletter-read-bounce-mailbox" not in app.conf.beat_schedule
    finally:
        setup_beat_schedule(app)
