"""Structured logs: extras reach the line; tokens, addresses and IPs never do."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from donations.links import manage_link, reminder_stop_link
from newsletter.tokens import confirm_link, unsubscribe_link
from newsroom.logs import JsonFormatter, KeyValueFormatter


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("newsroom.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_text_formatter_prints_every_extra_field() -> None:
    line = KeyValueFormatter().format(
        _record("donation status", donation=42, status="paid", note="two words")
    )
    assert line.endswith(
        'INFO newsroom.test donation status donation=42 status=paid note="two words"'
    )


def test_the_json_formatter_prints_one_object_with_the_extras() -> None:
    line = JsonFormatter().format(_record("batch sent %s", "ok", issue_id=7, sent=500))
    data = json.loads(line)
    assert data["message"] == "batch sent ok"
    assert data["issue_id"] == 7
    assert data["sent"] == 500
    assert data["level"] == "INFO"


def _masks(handler: logging.Handler) -> bool:
    return isinstance(handler.formatter, KeyValueFormatter | JsonFormatter)


def test_the_configured_handler_uses_the_masking_formatter() -> None:
    assert [h for h in logging.getLogger().handlers if _masks(h)]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes (through its formatter)."""
    [handler] = [h for h in logging.getLogger().handlers if _masks(h)]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    root, django_logger = logging.getLogger(), logging.getLogger("django")
    levels = root.level, django_logger.level
    root.setLevel(logging.DEBUG)
    django_logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        handler.setStream(previous)
        root.setLevel(levels[0])
        django_logger.setLevel(levels[1])


@pytest.mark.django_db
def test_a_404_or_405_on_a_token_link_logs_the_path_with_the_token_masked(
    client: Client, log_output: io.StringIO
) -> None:
    token = manage_link.make(1)
    client.get(f"/support/manage/{token}/nothing-here/")  # 404 through django.request
    client.put(f"/newsletter/unsubscribe/{unsubscribe_link.make(5)}/")  # 405
    logging.getLogger("django.server").info(  # as runserver writes its request lines
        '"%s" %s %s', f"GET /newsletter/confirm/{confirm_link.make(3)}/ HTTP/1.1", 404, 0
    )
    written = log_output.getvalue()
    assert "/support/manage/[token]/nothing-here/" in written
    assert "/newsletter/unsubscribe/[token]/" in written
    assert "/newsletter/confirm/[token]/" in written
    for secret in (token, unsubscribe_link.make(5), confirm_link.make(3)):
        assert secret not in written


def test_gunicorns_access_log_masks_tokens_and_names_no_client() -> None:
    """The production config's logger class writes method, path, status, size and time: the
    token masked, no client address, query string, referrer or browser."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from newsroom import gunicorn_conf

    config = Config()
    for name in ("accesslog", "logger_class", "logconfig_dict"):
        config.set(name, getattr(gunicorn_conf, name))
    logger = config.logger_class(config)
    assert isinstance(logger, Logger)
    buffer = io.StringIO()
    logging.getLogger("gunicorn.access").handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    token = reminder_stop_link.make(8)
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": f"/support/remind-me/stop/{token}/",
        "QUERY_STRING": "session_id=cs_secret", "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": "https://elsewhere.example/", "HTTP_USER_AGENT": "Browser/1.0",
        "RAW_URI": f"/support/remind-me/stop/{token}/?session_id=cs_secret",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }  # fmt: skip
    response = SimpleNamespace(status="404 Not Found", sent=179, headers=[])
    request = SimpleNamespace(headers=[("USER-AGENT", "Browser/1.0")])
    logger.access(response, request, environ, timedelta(milliseconds=3, microseconds=400))
    line = buffer.getvalue()
    assert '"GET /support/remind-me/stop/[token]/" 404 179 3ms' in line
    for leak in (token, "203.0.113", "cs_secret", "elsewhere", "Browser"):
        assert leak not in line


def test_addresses_and_ips_in_any_message_or_extra_are_masked(log_output: io.StringIO) -> None:
    logging.getLogger("newsroom.test").warning(
        "from %s to %s", "198.51.100.7", "reader@example.org", extra={"peer": "2001:db8::7"}
    )
    written = log_output.getvalue()
    assert "from [ip] to [email]" in written
    assert "peer=[ip]" in written


_PIECES = st.sampled_from(
    ["a", "1", ".", ":", "::", "@", " ", "-", "_", "example.org", "192.168.0.1", "fe80::1",
     "2001:db8:0:0:0:0:0:1", "reader+x@example.org", "session_id=cs_1", "é", '"', "="]
)  # fmt: skip


@given(st.lists(_PIECES | st.text(max_size=8), max_size=20).map("".join))
def test_masking_skips_a_pattern_only_where_it_cannot_match(text: str) -> None:
    from newsroom import logs

    every_pattern = logs._token_pattern().sub(r"\1[token]", text)
    every_pattern = logs._SESSION_ID.sub(r"\1[id]", every_pattern)
    for pattern in (logs._EMAIL, logs._IPV4, logs._IPV6):
        every_pattern = pattern.sub("[email]" if pattern is logs._EMAIL else "[ip]", every_pattern)
    assert logs.mask(text) == every_pattern
