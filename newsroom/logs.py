"""Structured logs: every `extra=` field reaches the line, and no token, address or IP does.

- `KeyValueFormatter`: `time LEVEL logger message key=value ...` (values with spaces quoted).
- `JsonFormatter`: one JSON object per line (`LOG_FORMAT=json`), extras as top-level keys.

Both mask what they write (`mask`): the token segment of the site's own signed links (each URL
pattern with a `<token>`), Checkout session ids in query strings, email addresses and IP
addresses, wherever they appear in the message, an extra or a traceback: Django's request
logger, the development server, gunicorn's access log and our own lines alike. Records
themselves are left as they are (tests can still see what code tried to log).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured

_STANDARD = frozenset(
    {
        *vars(logging.LogRecord("", 0, "", 0, "", None, None)),
        "message",
        "asctime",
        "taskName",
        "color_message",  # uvicorn/celery colour copies of the message
    }
)
_QUOTE = re.compile(r'[\s="]')


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed through `extra=` (everything not standard on a record).

    Celery's task lines pass their whole message again as `data`; the line already says it.
    """
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD
        and not key.startswith("_")
        and not (key == "data" and record.name.startswith("celery."))
    }


def _text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if not text or _QUOTE.search(text) else text


class KeyValueFormatter(logging.Formatter):
    """`time LEVEL logger message key=value ...`, masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = " ".join(f"{key}={_text(value)}" for key, value in record_extras(record).items())
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return mask(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, extras as top-level keys, masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_extras(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask(json.dumps(line, default=str))


_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(  # a "::" form, or the full eight groups
    r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){1,7}:[0-9a-fA-F]{0,4}(?:\.\d{1,3}){0,3}(?![\w:])"
    r"|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])"
)
_SESSION_ID = re.compile(r"(session_id=)[^&\s\"']+")


def _token_routes() -> list[str]:
    """The path prefixes of every URL pattern whose next segment is a `<token>`."""
    from django.urls import URLPattern, URLResolver, get_resolver

    prefixes: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and "<str:token>" in route:
                prefixes.append("/" + prefix + route[: route.index("<str:token>")])

    walk(get_resolver().url_patterns, "")
    return prefixes


_NOTHING = re.compile(r"(?!x)x")


@lru_cache(maxsize=1)
def _token_pattern_from_urls() -> re.Pattern[str]:
    prefixes = _token_routes()
    alternatives = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len)[::-1])
    return re.compile(rf"((?:{alternatives}))[^/?#\s\"']+") if prefixes else _NOTHING


def _token_pattern() -> re.Pattern[str]:
    """Built from the URLconf once it can be read (not cached before: a line logged during
    start-up must not leave later lines unmasked)."""
    try:
        return _token_pattern_from_urls()
    except (ImproperlyConfigured, AppRegistryNotReady, ImportError):
        return _NOTHING


def mask(text: str) -> str:
    """The text with tokens of our links, session ids, addresses and IPs replaced."""
    text = _token_pattern().sub(r"\1[token]", text)
    text = _SESSION_ID.sub(r"\1[id]", text)
    # Each pattern runs only where it can match (an address needs its "@", an IPv4 three dots,
    # an IPv6 a "::" or seven colons): most lines have none, and the scans cost most of a line.
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    if text.count(".") >= 3:
        text = _IPV4.sub("[ip]", text)
    if "::" in text or text.count(":") >= 7:
        text = _IPV6.sub("[ip]", text)
    return text


def access_log_config() -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its error and access logs through our formatter and mask."""
    import os

    formatter = "json" if os.environ.get("LOG_FORMAT", "text") == "json" else "text"
    handler = {"class": "logging.StreamHandler", "formatter": formatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"text": {"()": KeyValueFormatter}, "json": {"()": JsonFormatter}},
        "handlers": {"console": handler},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
