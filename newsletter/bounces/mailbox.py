"""Bounces read from an IMAP mailbox (BOUNCE_IMAP_URL), for a mail server that delivers the
bounce domain's mail to a mailbox instead of forwarding it to the listener.

    imaps://user:password@host[:993]/Folder      TLS (the default port 993)
    imap+tls://user:password@host[:143]/Folder   STARTTLS
    imap://user:password@host[:143]/Folder       unencrypted: a server on the same machine only

A run reads at most `BATCH` messages. Each is read like the listener reads one
(`intake.report_payload`, the bounce address taken from the delivery headers the mail server
added), applied at once, then flagged \\Deleted; the folder is expunged at the end. A run that
stops half-way leaves the rest for the next; a message applied but not yet deleted is applied
again, which changes nothing (one event per issue and kind). A message over BOUNCE_MAX_BYTES is
deleted unread. The server unreachable or refusing is a `TransientError`: the task retries.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from newsletter.bounces.intake import report_payload
from newsletter.services.bounces import bounce_report_apply
from newsroom.errors import TransientError

logger = logging.getLogger(__name__)

BATCH = 500
_PORTS = {"imaps": 993, "imap+tls": 143, "imap": 143}
# Where a mail server writes the envelope recipient when it files a message in a mailbox.
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


@dataclass(frozen=True)
class MailboxURL:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str


def parse_url(url: str) -> MailboxURL:
    parts = urlsplit(url)
    if parts.scheme not in _PORTS or not parts.hostname or not parts.username:
        raise ImproperlyConfigured(
            "BOUNCE_IMAP_URL must be imaps://user:password@host/Folder (or imap+tls://, imap://)."
        )
    return MailboxURL(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or _PORTS[parts.scheme],
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.strip("/")) or "INBOX",
    )


def _connect(target: MailboxURL) -> imaplib.IMAP4:
    timeout = float(settings.EMAIL_TIMEOUT)
    if target.scheme == "imaps":
        context = ssl.create_default_context()
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            target.host, target.port, ssl_context=context, timeout=timeout
        )
    else:
        imap = imaplib.IMAP4(target.host, target.port, timeout=timeout)
    try:
        if target.scheme == "imap+tls":
            imap.starttls(ssl.create_default_context())
        imap.login(target.user, target.password)
    except (OSError, imaplib.IMAP4.error):
        imap.shutdown()
        raise
    return imap


def mailbox_read(*, url: str) -> int:
    """Read, apply and delete what the mailbox holds (at most BATCH). How many were applied."""
    target = parse_url(url)
    try:
        imap = _connect(target)
    except (OSError, imaplib.IMAP4.error) as error:
        raise TransientError(extra={"error": type(error).__name__}) from error
    try:
        return _read(imap, target)
    except (OSError, imaplib.IMAP4.error) as error:
        raise TransientError(extra={"error": type(error).__name__}) from error
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _read(imap: imaplib.IMAP4, target: MailboxURL) -> int:
    status, _ = imap.select(f'"{target.folder}"')
    if status != "OK":
        raise TransientError(extra={"imap": "select refused"})
    sizes = _sizes(imap)
    applied = 0
    for uid, size in list(sizes.items())[:BATCH]:
        if size <= settings.BOUNCE_MAX_BYTES:
            status, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            data = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if status == "OK" and data:
                payload = report_payload(recipients=_recipients(data), data=data, via="imap")
                if payload is not None:
                    bounce_report_apply(**payload)
                    applied += 1
        imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
    imap.expunge()
    logger.info("newsletter.bounce.mailbox_read", extra={"read": len(sizes), "applied": applied})
    return applied


def _sizes(imap: imaplib.IMAP4) -> dict[str, int]:
    """Each message's UID and size, in one FETCH."""
    status, data = imap.uid("SEARCH", "ALL")
    if status != "OK" or not data or not data[0]:
        return {}
    status, fetched = imap.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
    sizes = {}
    for line in fetched:
        text = line[0] if isinstance(line, tuple) else line
        found = _SIZE.search(text or b"")
        if found:
            uid, size = (found.group(1), found.group(2)) if found.group(1) else found.group(4, 3)
            sizes[uid.decode()] = int(size)
    return sizes


def _recipients(data: bytes) -> list[str]:
    headers = BytesHeaderParser().parsebytes(data[:65536])
    values = [str(value) for name in _RECIPIENT_HEADERS for value in headers.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]
