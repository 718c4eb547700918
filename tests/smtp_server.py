"""A real SMTP server on loopback (aiosmtpd), recording what it accepts.

`rcpt_reply` lets a test answer some recipients with 4xx or 5xx, as real servers do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    helo: str = ""  # the name the client greeted with (EHLO/HELO)

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    rcpt_reply: Callable[[str], str | None] | None = None
    messages: list[ReceivedMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.rcpt_reply(address) if self.rcpt_reply else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                ReceivedMessage(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.content,
                    helo=str(session.host_name or ""),
                )
            )
        return "250 Message accepted for delivery"


class _EphemeralPortController(Controller):
    """aiosmtpd 1.4 connects to `self.port` to check the server is up: with port 0 (any free
    port) that connection is refused, so learn the bound port first."""

    def _trigger_server(self) -> None:
        server: Any = self.server
        self.port = int(server.sockets[0].getsockname()[1])
        super()._trigger_server()


class SMTPServer:
    def __init__(self, rcpt_reply: Callable[[str], str | None] | None = None) -> None:
        self.handler = RecordingHandler(rcpt_reply=rcpt_reply)
        self.controller = _EphemeralPortController(self.handler, hostname="127.0.0.1", port=0)

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        server: Any = self.controller.server
        return int(server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def recipients(self) -> list[str]:
        return [rcpt for msg in self.messages for rcpt in msg.rcpt_tos]
