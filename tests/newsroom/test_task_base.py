"""One task base: enqueued after commit, one retry policy for transient errors."""

from __future__ import annotations

import logging
import socket
from typing import Any
from unittest import mock

import pytest
from django.core.mail import EmailMessage
from django.db import transaction
from django.test import override_settings
from kombu.exceptions import OperationalError as BrokerUnavailable

from newsroom import mail
from newsroom.celery_app import app
from newsroom.task_base import TRANSIENT_ERRORS, Task
from newsroom.tasks import ping
from tests.smtp_server import SMTPServer


def test_every_task_of_ours_is_on_the_base_with_the_one_retry_policy() -> None:
    app.loader.import_default_modules()
    ours = {name: t for name, t in app.tasks.items() if name.split(".")[0] in {
        "donations", "newsletter", "newsroom"}}  # fmt: skip
    assert len(ours) >= 12
    for name, registered in ours.items():
        assert isinstance(registered, Task), name
        assert registered.acks_late, name
        assert tuple(registered.autoretry_for) == TRANSIENT_ERRORS, name


@pytest.mark.django_db(transaction=True)
def test_delay_on_commit_enqueues_only_once_the_transaction_commits() -> None:
    with mock.patch.object(ping, "apply_async") as apply_async:
        with transaction.atomic():
            ping.delay_on_commit("a")
            assert not apply_async.called
        assert apply_async.call_args.args == (("a",), {})
        apply_async.reset_mock()
        with transaction.atomic():
            ping.delay_on_commit("b")
            transaction.set_rollback(True)
        assert not apply_async.called


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_at_enqueue_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with mock.patch.object(ping, "apply_async", side_effect=BrokerUnavailable("down")):
            ping.delay_on_commit("c")  # outside a transaction: at once
    finally:
        app.conf.task_always_eager = eager
    [record] = [r for r in caplog.records if r.name == "newsroom.task_base"]
    assert record.levelno == logging.WARNING
    assert record.task == "newsroom.tasks.ping"  # type: ignore[attr-defined]


def _message() -> EmailMessage:
    return EmailMessage(subject="s", body="b", to=["reader@example.org"])


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("451 4.7.1 greylisted", mail.TransientMailError),
        ("550 5.1.1 no such user", mail.MailRefused),
    ],
)
def test_mail_replies_are_sorted_into_transient_and_refused(
    smtp_server: SMTPServer, reply: str, kind: type[Exception]
) -> None:
    smtp_server.handler.rcpt_reply = lambda address: reply
    with pytest.raises(kind) as raised:
        mail.send(_message())
    assert "reader@example.org" not in repr(raised.value.extra)  # type: ignore[attr-defined]


def test_an_unreachable_mail_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings: dict[str, Any] = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_TIMEOUT": 2,
    }
    with override_settings(**settings), pytest.raises(mail.TransientMailError):
        mail.send(_message())
