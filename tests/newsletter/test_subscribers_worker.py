"""Sign-up through a real Celery worker process on Redis: the confirmation email is queued on
commit, sent by the worker to a real SMTP server, and its link confirms the subscriber."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client

from newsletter.models import Subscriber
from tests.services import need_postgresql
from tests.smtp_server import SMTPServer

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("isolated_cache"),
]


def wait_for_messages(server: SMTPServer, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(server.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.messages) >= count, f"{len(server.messages)} message(s) after {timeout}s"


def test_a_real_worker_sends_the_confirmation_and_its_link_confirms(
    smtp_server: SMTPServer, celery_worker_process: Any, client: Client
) -> None:
    need_postgresql()
    celery_worker_process(env={"EMAIL_URL": smtp_server.url}).start()

    response = client.post(
        "/newsletter/", {"email": "worker.reader@example.org", "consent": "on", "source": "/"}
    )
    assert response.status_code == 200
    wait_for_messages(smtp_server, 1)

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["worker.reader@example.org"]
    text = received.message.get_body(preferencelist=("plain",))
    assert text is not None
    link = re.search(r"http://testserver(/newsletter/confirm/\S+/)", text.get_content())
    assert link is not None
    assert client.post(link.group(1)).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
