"""A message received at the bounce address -> what it reports, with the standard library only.

* RFC 3464 delivery status notifications (`multipart/report; report-type=delivery-status`):
  Postfix, Exim 4, Gmail, Microsoft 365 / Exchange, Yahoo, ... The per-recipient `Action`
  and `Status` decide: `failed` with a permanent address status is a hard bounce, any other
  `failed` a soft one; `delayed` is a warning, not a bounce.
* RFC 5965 ARF feedback reports (`report-type=feedback-report`): `Feedback-Type: abuse` (or
  `fraud`) is a complaint.
* Non-standard bounces: plain-text reports from a mailer daemon or with `X-Failed-Recipients`
  (old Exim, qmail, old Gmail): read from the text before the returned message.
* Anything else (an auto-reply, a person writing back) reports nothing.

A hard bounce needs evidence the address is gone (RFC 3463 statuses 5.1.x, 5.2.1, 5.4.4, or
a 5xx reply that says so): a block for spam or a full mailbox suppresses no one at once (soft).
Parts inside a returned message are never read as the report (a forwarded bounce is not one).
The message is untrusted input: a parse error is "nothing", never an exception.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses

logger = logging.getLogger(__name__)


class Kind(enum.StrEnum):
    HARD = "hard_bounce"
    SOFT = "soft_bounce"
    COMPLAINT = "complaint"
    DELAYED = "delayed"  # a warning that delivery is still being tried: nothing to do
    NONE = "none"  # not a bounce or a complaint


_RANK = {Kind.NONE: 0, Kind.DELAYED: 1, Kind.SOFT: 2, Kind.HARD: 3}


@dataclass(frozen=True)
class Evidence:
    """What of ours the report quotes: the returned message's return path, unsubscribe links
    and Message-ID, and an ARF report's Original-Mail-From."""

    return_paths: tuple[str, ...] = ()
    unsubscribe_links: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    kind: Kind
    form: str  # "dsn", "arf", "text", "auto-reply", "other", "unparseable"
    status: str = ""
    detail: str = ""
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def actionable(self) -> bool:
        return self.kind in (Kind.HARD, Kind.SOFT, Kind.COMPLAINT)


# RFC 3463 statuses that mean the address itself is gone.
HARD_STATUSES = frozenset(
    {"5.1.0", "5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.6", "5.1.10", "5.2.1", "5.4.4"}
)
# ... and 5xx replies that say so in words (servers that answer 5.0.0, 5.5.0, 5.7.1 ...).
_HARD_WORDS = re.compile(
    r"user unknown|unknown user|no such (?:user|mailbox|recipient)|unknown recipient"
    r"|recipient(?:\s+address)? (?:not found|unknown|rejected: user unknown)"
    r"|recipientnotfound|recipnotfound|address not found|couldn't be found"
    r"|does ?n[o']t (?:exist|have an? \S+ account)|mailbox (?:not found|does not exist)"
    r"|invalid (?:mailbox|recipient)|account (?:has been |is )?disabled|unrouteable address"
    r"|mailbox unavailable|no mailbox here|host or domain name not found"
    r"|access denied\. as\(201806281\)",  # Microsoft 365: no such recipient in the tenant
    re.IGNORECASE,
)
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BASIC = re.compile(r"(?:^|[\s;:(])([245])\d\d[\s-]", re.MULTILINE)
_ADDRESS = re.compile(r"<?[^\s<>@\"]+@[^\s<>@\"]+>?")
_DAEMONS = frozenset({"mailer-daemon", "mailer_daemon", "mail-daemon", "postmaster"})
# Where a plain-text bounce starts quoting the returned message.
_QUOTE_MARKERS = re.compile(
    r"^(?:-+ ?This is a copy of the message|-+ ?Original message ?-+|-+ ?Below this line is a "
    r"copy of the message|Original message headers:|-+ ?The header of the original message)"
    r".*$",
    re.IGNORECASE | re.MULTILINE,
)
_PERMANENT = re.compile(
    r"permanent(?:ly)? (?:error|failure)|failed permanently|could ?n[o']t be delivered"
    r"|delivery (?:has )?failed|undeliverable|returning message to sender",
    re.IGNORECASE,
)
_DELAYED = re.compile(
    r"not yet been delivered|will (?:continue to )?(?:re)?try|delivery (?:is )?delayed"
    r"|temporary (?:problem|failure)|delivery incomplete",
    re.IGNORECASE,
)
_MAX_DEPTH = 8
_TEXT_LIMIT = 16_000


def parse(data: bytes) -> Report:
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        return _parse(message)
    except Exception:  # noqa: BLE001 - untrusted input: a parser failure means "not a report"
        logger.info("newsletter.bounce.unparseable", exc_info=False)
        return Report(Kind.NONE, "unparseable")


def _parse(message: EmailMessage) -> Report:
    parts = list(_report_parts(message))
    for part in parts:
        if part.get_content_type() == "message/delivery-status":
            return _from_dsn(part, parts)
    for part in parts:
        if part.get_content_type() == "message/feedback-report":
            return _from_arf(part, parts)
    if _from_daemon(message):
        return _from_text(message, parts)
    if _auto_reply(message):
        return Report(Kind.NONE, "auto-reply")
    return Report(Kind.NONE, "other")


def _report_parts(message: Message, depth: int = 0) -> Iterator[Message]:
    """The message and its multipart descendants; never inside a returned message/rfc822."""
    yield message
    if message.get_content_maintype() == "multipart" and depth < _MAX_DEPTH:
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _report_parts(part, depth + 1)


# --- RFC 3464 --------------------------------------------------------------------------------
def _from_dsn(part: Message, parts: list[Message]) -> Report:
    kind, status, detail = Kind.NONE, "", ""
    for block in _blocks(part)[1:]:  # the first block is about the message, not a recipient
        block_kind, block_status, block_detail = _recipient(block)
        if _RANK[block_kind] > _RANK[kind]:
            kind, status, detail = block_kind, block_status, block_detail
    return Report(kind, "dsn", status, detail, _evidence(parts))


def _recipient(block: Message) -> tuple[Kind, str, str]:
    action = str(block.get("Action", "")).strip().lower()
    diagnostic = _unfold(str(block.get("Diagnostic-Code", "")))
    diagnostic = diagnostic.split(";", 1)[-1].strip()  # "smtp; 550 ..." -> "550 ..."
    status = _best_status(str(block.get("Status", "")), diagnostic)
    detail = clean(f"{status} {diagnostic}")
    if action == "delayed":
        return Kind.DELAYED, status, detail
    failed = action == "failed" or (not action and status.startswith("5"))  # Action missing
    if not failed:
        return Kind.NONE, status, detail  # delivered, relayed, expanded
    return classify(status, diagnostic), status, detail


def _best_status(status_field: str, diagnostic: str) -> str:
    """The Status field, unless it is the vague x.0.0 and the reply names a finer one."""
    found = _ENHANCED.search(status_field)
    status = ".".join(found.groups()) if found else ""
    if status.endswith(".0.0") or not status:
        finer = _ENHANCED.search(diagnostic)
        if finer and (not status or finer.group(1) == status[0]):
            return ".".join(finer.groups())
    return status


def classify(status: str, text: str) -> Kind:
    """A failed delivery's status (and the server's words) -> hard or soft bounce."""
    if status in HARD_STATUSES:
        return Kind.HARD
    permanent = status.startswith("5") or (not status and _basic_code(text) == "5")
    if permanent and status != "5.2.2" and _HARD_WORDS.search(text):
        return Kind.HARD
    return Kind.SOFT


def _basic_code(text: str) -> str:
    found = _BASIC.search(text)
    return found.group(1) if found else ""


# --- RFC 5965 --------------------------------------------------------------------------------
def _from_arf(part: Message, parts: list[Message]) -> Report:
    fields = _blocks(part)[0] if _blocks(part) else Message()
    feedback = str(fields.get("Feedback-Type", "")).strip().lower()
    evidence = _evidence(parts, extra_return_paths=[str(fields.get("Original-Mail-From", ""))])
    agent = clean(str(fields.get("User-Agent", "")))
    if feedback in ("abuse", "fraud"):
        return Report(Kind.COMPLAINT, "arf", "", clean(f"{feedback} ({agent})"), evidence)
    return Report(Kind.NONE, "arf", "", clean(feedback), evidence)


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part.get_payload(decode=True) or b""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [HeaderParser().parsestr(block) for block in re.split(r"\r?\n\r?\n", str(text))]


# --- Non-standard, plain-text bounces --------------------------------------------------------
def _from_daemon(message: Message) -> bool:
    if message.get("X-Failed-Recipients"):
        return True
    senders = getaddresses([str(message.get("From", ""))])
    return any(address.rpartition("@")[0].lower() in _DAEMONS for _, address in senders)


def _from_text(message: Message, parts: list[Message]) -> Report:
    text = _first_text(parts)
    marker = _QUOTE_MARKERS.search(text)
    explanation, quoted = (text[: marker.start()], text[marker.end() :]) if marker else (text, "")
    found = _ENHANCED.search(explanation)
    status = ".".join(found.groups()) if found else ""
    detail = clean(_reply_line(explanation) or explanation.strip())
    evidence = _evidence(parts, quoted_text=quoted)
    if (
        _PERMANENT.search(explanation)
        or status.startswith("5")
        or (not status and _basic_code(explanation) == "5")
    ):
        return Report(classify(status, explanation), "text", status, detail, evidence)
    if _DELAYED.search(explanation) or status.startswith("4"):
        return Report(Kind.DELAYED, "text", status, detail, evidence)
    return Report(Kind.NONE, "text", status, detail, evidence)


def _first_text(parts: list[Message]) -> str:
    for part in parts:
        if part.get_content_type() == "text/plain":
            try:
                content = part.get_content() if isinstance(part, EmailMessage) else ""
            except (LookupError, ValueError):
                content = ""
            return str(content)[:_TEXT_LIMIT]
    return ""


def _reply_line(text: str) -> str:
    """The line of a text bounce that quotes the server's reply (its code and words)."""
    for line in text.splitlines():
        if _ENHANCED.search(line) or _basic_code(f" {line.strip()} "):
            return line.strip()
    return ""


def _auto_reply(message: Message) -> bool:
    """RFC 3834's Auto-Submitted, or the headers older vacation programs set."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return auto != "no" or bool(message.get("X-Autoreply")) or precedence == "auto_reply"


# --- What of ours the report quotes ----------------------------------------------------------
def _evidence(
    parts: list[Message], *, extra_return_paths: list[str] | None = None, quoted_text: str = ""
) -> Evidence:
    headers: list[Message] = []
    for part in parts:
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            headers += [inner for inner in part.get_payload() if isinstance(inner, Message)][:1]
        elif content_type == "text/rfc822-headers":
            headers.append(HeaderParser().parsestr(_text(part)))
    if quoted_text:
        headers.append(HeaderParser().parsestr(quoted_text.lstrip("\r\n -")[:_TEXT_LIMIT]))
    return_paths = [p for p in extra_return_paths or [] if p]
    links, ids = [], []
    for header in headers:
        return_paths += [str(v) for v in header.get_all("Return-Path", [])]
        for value in header.get_all("List-Unsubscribe", []):
            links += re.findall(r"<(https?://[^>\s]+)>", _unfold(str(value)))
        ids += [str(v).strip() for v in header.get_all("Message-ID", [])]
    return Evidence(tuple(return_paths), tuple(links), tuple(ids))


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")[:_TEXT_LIMIT]
    return str(part.get_payload())[:_TEXT_LIMIT]


def _unfold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def clean(text: str) -> str:
    """A server's words fit for the ledger and staff: no address, one line, 200 characters."""
    return _ADDRESS.sub("<address>", _unfold(text))[:200]
