"""The production server (gunicorn with newsroom/gunicorn_conf.py, one worker process) while
Stripe hangs: eight readers' checkouts wait on Stripe, and `/healthz` and a signed webhook
still answer within a second; then each checkout gets its 503 page within the budget."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.client import HTTPResponse
from typing import NamedTuple
from urllib.parse import urlencode

import pytest

from donations.models import Donation
from tests.celery_worker import purge_queues
from tests.donations.stripe_events import WEBHOOK_PATH, signature_header, stripe_event
from tests.hanging_server import HangingServer
from tests.services import need_redis
from tests.web_server import GunicornServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]

HANGING = 8
BUDGET = 8.0  # long enough to look at the other pages while the checkouts hang
WITHIN = 1.0  # seconds, for /healthz and the webhook


@pytest.fixture
def hanging_stripe() -> Iterator[HangingServer]:
    with HangingServer() as server:
        yield server


@pytest.fixture
def server(hanging_stripe: HangingServer) -> Iterator[GunicornServer]:
    need_redis()
    web = GunicornServer(
        workers=1,
        env={
            "STRIPE_API_BASE": hanging_stripe.url,
            "STRIPE_READER_BUDGET": str(BUDGET),
            "STRIPE_TIMEOUT": "30",  # the budget, not the per-attempt timeout, ends the wait
            "LOG_LEVEL": "WARNING",
        },
    )
    try:
        yield web.start()
    finally:
        web.stop()
        purge_queues()  # the webhook's receipt task, queued on the broker


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """Status, headers, body and seconds taken; an HTTP error status is an answer too."""
    started = time.monotonic()
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        answer: HTTPResponse = urllib.request.urlopen(request, timeout=60)  # noqa: S310 - loopback
    except urllib.error.HTTPError as error:
        answer = error  # type: ignore[assignment]
    with answer:
        body = answer.read().decode()
        return Answer(answer.status, dict(answer.headers), body, time.monotonic() - started)


def _checkout(pool: ThreadPoolExecutor, server: GunicornServer, amount: int) -> Future[Answer]:
    """The support form posted as a browser posts it from the site's own page."""
    form = {"frequency": "monthly", "currency": "usd", "amount": str(amount)}
    headers = {"Origin": server.url, "Sec-Fetch-Site": "same-origin",
               "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    return pool.submit(
        _request, f"{server.url}/support/checkout/", urlencode(form).encode(), headers
    )


def _signed_webhook(server: GunicornServer) -> Answer:
    event = stripe_event("checkout_session_completed_once", event_id="evt_test_while_hanging")
    payload = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature_header(payload)}
    return _request(f"{server.url}{WEBHOOK_PATH}", payload, headers)


def test_eight_hanging_checkouts_leave_healthz_and_the_webhook_answering_within_a_second(
    server: GunicornServer, hanging_stripe: HangingServer
) -> None:
    _request(f"{server.url}{WEBHOOK_PATH}", b"{}", {"Content-Type": "application/json"})  # warm
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=HANGING) as pool:
        checkouts = [_checkout(pool, server, 5 + n) for n in range(HANGING)]
        hanging_stripe.wait_for(HANGING)  # each checkout's thread is waiting on Stripe now

        health = _request(f"{server.url}/healthz")
        webhook = _signed_webhook(server)
        article = _request(f"{server.url}/")
        still_hanging = not any(checkout.done() for checkout in checkouts)
        answers = [checkout.result(timeout=60) for checkout in checkouts]

    assert still_hanging, "the checkouts ended before the other pages were asked"
    assert health.status == 200
    assert health.seconds < WITHIN
    assert webhook.status == 200, webhook.body
    assert webhook.seconds < WITHIN
    assert article.status == 200
    assert Donation.objects.filter(stripe_checkout_session_id="cs_test_once0001").exists()
    for answer in answers:
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "60"
        assert "Payments are briefly unavailable. Nothing was charged." in answer.body
        assert answer.seconds < BUDGET + 3  # the budget, plus queueing on a busy machine
    assert time.monotonic() - started < BUDGET + 5
    assert hanging_stripe.accepted == HANGING  # one attempt each: no retry waited again
