"""A local stand-in of an email provider's HTTP API, for tests and the bench: Mailgun's
`POST /v3/<domain>/messages`, as django-anymail's Mailgun backend calls it.

It answers after a configurable delay (a provider's round trip; each call in its own thread,
so concurrent calls overlap as they would at the real API) and does what Mailgun does with a
batch: with `recipient-variables`, one message per `to` address, addressed to that address
alone, with every `%recipient.NAME%` in the subject, bodies and `h:` headers filled from that
recipient's variables. Without them, one message to every `to` address at once. It keeps the
messages it made (`messages()`), unless told to only count them (the bench), and can be told
to fail the next calls (`fail_next`).

    standin = ProviderStandin(delay=0.03).start()        # in this process (tests)
    standin = ProviderStandin(delay=0.03).start_process()  # in its own process (the bench)
    settings: EMAIL_URL=standin.email_url
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.http_stub import JSONHandler

API_KEY = "key-standin"
DOMAIN = "news.example.org"
MAX_RECIPIENTS = 1000
_VARIABLE = re.compile(r"%recipient\.([^%]+)%")


@dataclass
class SentMessage:
    """One message as the provider would deliver it to one recipient (or one shared one)."""

    to: list[str]
    sender: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    call: int  # which API call carried it


@dataclass
class State:
    delay: float = 0.0
    keep: bool = True
    calls: int = 0
    recipients: int = 0
    fail: list[int] = field(default_factory=list)  # statuses for the next calls
    messages: list[SentMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def form_fields(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """The fields of a urlencoded or multipart/form-data body, in order."""
    if content_type.startswith("multipart/form-data"):
        parsed = message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=policy.HTTP
        )
        fields = []
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            fields.append((str(name), data.decode("utf-8")))
        return fields
    return parse_qsl(body.decode("utf-8"), keep_blank_values=True)


def count_to(body: bytes) -> int:
    """The `to` fields of a form body, counted without parsing it (the bench's counting mode,
    so the stand-in stays far faster than the sender it measures)."""
    if body.startswith(b"--"):  # multipart/form-data
        return body.count(b'name="to"')
    return body.count(b"&to=") + body.startswith(b"to=")


def fill(text: str, variables: dict[str, Any]) -> str:
    return _VARIABLE.sub(lambda m: str(variables.get(m.group(1), m.group(0))), text)


def messages_of(fields: list[tuple[str, str]], call: int) -> list[SentMessage]:
    """What Mailgun makes of one call: a message per recipient with recipient-variables."""
    values: dict[str, str] = {}
    to: list[str] = []
    for name, value in fields:
        if name == "to":
            to.append(value)
        else:
            values[name] = value
    headers = {name[2:]: value for name, value in values.items() if name.startswith("h:")}
    subject, text, html = (values.get(name, "") for name in ("subject", "text", "html"))
    sender = values.get("from", "")
    if "recipient-variables" not in values:
        return [SentMessage(to, sender, subject, text, html, headers, call)]
    variables = json.loads(values["recipient-variables"])
    made = []
    for address in to:
        mine = variables.get(address, {})
        filled = {name: fill(value, mine) for name, value in headers.items()}
        made.append(
            SentMessage(
                [address],
                sender,
                fill(subject, mine),
                fill(text, mine),
                fill(html, mine),
                filled,
                call,
            )
        )
    return made


class _Handler(JSONHandler):
    def do_GET(self) -> None:
        state: State = self.server.state
        if self.path == "/_standin/stats":
            with state.lock:
                return self.answer(200, {"calls": state.calls, "recipients": state.recipients})
        return self.answer(404, {"message": "Not found"})

    def do_POST(self) -> None:
        state: State = self.server.state
        body = self.body()
        if not re.fullmatch(r"/v3/[^/]+/messages", self.path):
            return self.answer(404, {"message": "Not found"})
        if self.headers.get("Authorization", "") != _basic_auth():
            return self.answer(401, {"message": "Forbidden"})
        content_type = self.headers.get("Content-Type", "")
        fields = form_fields(content_type, body) if state.keep else []
        count = sum(1 for name, _ in fields if name == "to") if state.keep else count_to(body)
        time.sleep(state.delay)
        with state.lock:
            state.calls += 1
            call, failing = state.calls, state.fail.pop(0) if state.fail else None
        if failing:
            return self.answer(failing, {"message": "Internal error (stand-in told to fail)"})
        if count > MAX_RECIPIENTS:
            return self.answer(400, {"message": "Too many recipients"})
        made = messages_of(fields, call) if state.keep else []
        with state.lock:
            state.recipients += count
            state.messages.extend(made)
        self.answer(200, {"id": f"<{call}.standin@{DOMAIN}>", "message": "Queued. Thank you."})


def _basic_auth() -> str:
    return "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class ProviderStandin:
    def __init__(self, provider: str = "mailgun", *, delay: float = 0.0, keep: bool = True):
        if provider != "mailgun":
            raise ValueError(f"no stand-in for {provider!r}")
        self.state = State(delay=delay, keep=keep)
        self.server: _Server | None = None
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    @property
    def email_url(self) -> str:
        return f"mailgun://{API_KEY}@?sender_domain={DOMAIN}&api_url={self.api_url}"

    def start(self) -> ProviderStandin:
        """In a thread of this process."""
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = self.state  # type: ignore[attr-defined]
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def start_process(self) -> ProviderStandin:
        """In its own process (counting only), so it shares no interpreter with the bench."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.provider_standin", "--delay", str(self.state.delay)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline().strip())
        return self

    def stats(self) -> dict[str, int]:
        if self.process is None:
            with self.state.lock:
                return {"calls": self.state.calls, "recipients": self.state.recipients}
        url = f"http://127.0.0.1:{self.port}/_standin/stats"
        with urllib.request.urlopen(url, timeout=10) as answer:
            return dict(json.loads(answer.read()))

    def messages(self) -> list[SentMessage]:
        with self.state.lock:
            return list(self.state.messages)

    def fail_next(self, *statuses: int) -> None:
        with self.state.lock:
            self.state.fail.extend(statuses)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
