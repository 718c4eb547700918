"""Mail sent on request is capped per address per hour, whoever asks, with the same page."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from donations.models import Reminder
from newsletter.models import Subscriber
from newsroom.mail_quota import mail_quota_key, mail_quota_take
from tests.donations.factories import DonorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
ADDRESS = "target@example.org"
START = datetime(2026, 6, 1, 10, 5, tzinfo=UTC)  # five minutes into an hour


def _from(n: int) -> str:
    """A different client each time, so the per-client rate limits never answer first."""
    return f"198.51.100.{n}"


def ask_manage_link(client: Client, n: int, email: str = ADDRESS) -> Any:
    return client.post("/support/manage/", {"email": email}, REMOTE_ADDR=_from(n))


def sign_up(client: Client, n: int, email: str = ADDRESS) -> Any:
    data = {"email": email, "consent": "on", "source": "/", "website": ""}
    return client.post("/newsletter/", data, REMOTE_ADDR=_from(n))


def remind_me(client: Client, n: int, email: str = ADDRESS) -> Any:
    return client.post("/support/remind-me/", {"email": email}, REMOTE_ADDR=_from(n))


def _body(response: Any) -> str:
    return str(response.content.decode())


def test_manage_links_to_one_address_stop_at_three_an_hour_with_the_same_page(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    DonorFactory(email=ADDRESS)
    start = START
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        pages = [ask_manage_link(client, n, email=" Target@Example.org ") for n in range(5)]
        stranger = ask_manage_link(client, 9, email="nobody@example.org")
    assert len(mail.outbox) == 3
    assert {p.status_code for p in pages} == {stranger.status_code} == {200}
    assert {_body(p) for p in pages} == {_body(stranger)}  # nothing tells the cap apart

    with (
        time_machine.travel(start + timedelta(minutes=81), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ask_manage_link(client, 10)
    # The last hour's three now weigh 3 x 34/60: a slot is free again.
    assert len(mail.outbox) == 4


def test_a_burst_either_side_of_a_full_hour_does_not_double_the_cap(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    DonorFactory(email=ADDRESS)
    before = START.replace(minute=59)
    with time_machine.travel(before, tick=False), django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            ask_manage_link(client, n)
    with (
        time_machine.travel(before + timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for n in range(3, 6):
            ask_manage_link(client, n)
    assert len(mail.outbox) == 3


@override_settings(NEWSLETTER_CONFIRMATION_RESEND_SECONDS=0)
def test_newsletter_confirmations_stop_at_three_an_hour_with_the_same_page(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pages = [sign_up(client, n) for n in range(5)]
        fresh = sign_up(client, 9, email="fresh@example.org")
    assert [m.to for m in mail.outbox] == [[ADDRESS]] * 3 + [["fresh@example.org"]]
    assert {p.status_code for p in pages} == {200}
    strip = _body  # the sign-up-done page carries no token
    assert {strip(p) for p in pages} == {strip(fresh)}
    assert Subscriber.objects.get(email=ADDRESS).status == Subscriber.Status.PENDING


def test_remind_me_later_stops_moving_the_reminder_after_three_an_hour(client: Client) -> None:
    start = START
    pages = []
    for n in range(5):
        with time_machine.travel(start + timedelta(minutes=n), tick=False):
            pages.append(remind_me(client, n))
    assert {p.status_code for p in pages} == {200}
    assert len({_body(p) for p in pages}) == 1
    reminder = Reminder.objects.get()
    # The third request (minute 2) was the last one to count.
    assert reminder.due_at == start + timedelta(minutes=2) + timedelta(days=30)


def test_the_three_kinds_share_one_count_per_address(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    DonorFactory(email=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        ask_manage_link(client, 1)
        ask_manage_link(client, 2)
        remind_me(client, 3)
        done = sign_up(client, 4)
    assert done.status_code == 200
    assert len(mail.outbox) == 2  # two manage links; the sign-up's confirmation was the fourth
    pending = Subscriber.objects.get(email=ADDRESS)
    assert pending.confirmation_sent_at is None  # not marked sent: a later sign-up may send


@override_settings(MAIL_PER_ADDRESS_PER_HOUR=1)
def test_the_cap_is_a_setting(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    DonorFactory(email=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        ask_manage_link(client, 1)
        ask_manage_link(client, 2)
    assert len(mail.outbox) == 1


def _cache_keys() -> list[str]:
    backend = cache._cache  # type: ignore[attr-defined]
    if hasattr(backend, "get_client"):  # Redis
        return [key.decode() for key in backend.get_client(None, write=False).keys("*")]
    return [str(key) for key in backend]  # local memory


def test_the_cache_keeps_a_keyed_hash_of_the_address_never_the_address(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    DonorFactory(email=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        ask_manage_link(client, 1)
    keys = _cache_keys()
    plain_hashes = [hashlib.new(name, ADDRESS.encode()).hexdigest() for name in ("md5", "sha1",
                    "sha256")]  # fmt: skip
    assert any(mail_quota_key(ADDRESS) in key for key in keys)
    for key in keys:
        assert "target" not in key.lower()
        assert not any(digest in key for digest in plain_hashes)
    ours = mail_quota_key(ADDRESS, hour=1)
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-0123456789abcdef"):
        assert mail_quota_key(ADDRESS, hour=1) != ours  # keyed: the hash needs the secret
    assert mail_quota_key(" TARGET@example.org", hour=1) == ours


def test_an_unreachable_cache_sends_nothing_and_logs_no_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=unreachable), caplog.at_level(logging.INFO):
        from django.core.cache import caches

        caches["default"].close()
        assert mail_quota_take(email=ADDRESS, purpose="test") is False
    assert "nothing sent" in caplog.text
    assert "target" not in caplog.text
