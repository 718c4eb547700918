"""A kept database connection the server ended is replaced before the request's first query
(no failed request); a healthy one is kept without a `SELECT 1`; one with a message waiting
gets Django's own `SELECT 1` and is kept when it answers."""

from __future__ import annotations

import select
from typing import Any

import psycopg
import pytest
from django.db import connection

from donations.models import Donor
from tests.services import need_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def _admin() -> psycopg.Connection[Any]:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
        dbname=settings["NAME"], autocommit=True,
    )  # fmt: skip


def _new_request() -> None:
    """What Django does for the kept connection when a request starts (the test client skips
    it), then the health check its first query runs."""
    connection.health_check_done = False  # type: ignore[attr-defined]
    connection.close_if_health_check_failed()


@pytest.fixture
def cursors_opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every psycopg cursor opened (Django's `SELECT 1` check opens one)."""
    opened: list[str] = []
    original = psycopg.Connection.cursor

    def cursor(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        opened.append("cursor")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "cursor", cursor)
    return opened


def _backend_pid() -> int:
    Donor.objects.exists()  # opens the connection if it is not
    assert connection.connection is not None
    return int(connection.connection.info.backend_pid)


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it() -> None:
    need_postgresql()
    old = _backend_pid()
    with _admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [old])  # and wait for its exit

    _new_request()
    assert connection.connection is None  # closed: the next query opens a new one
    assert Donor.objects.count() == 0  # and works
    assert _backend_pid() != old


def test_a_healthy_idle_connection_is_kept_without_a_round_trip(cursors_opened: list[str]) -> None:
    need_postgresql()
    pid = _backend_pid()
    cursors_opened.clear()
    _new_request()
    assert cursors_opened == []
    assert _backend_pid() == pid


def test_a_connection_with_a_message_waiting_is_checked_and_kept(
    cursors_opened: list[str],
) -> None:
    need_postgresql()
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN newsroom_health_check_test")
    with _admin() as admin:
        admin.execute("NOTIFY newsroom_health_check_test")
    assert connection.connection is not None
    arrived, _, _ = select.select([connection.connection.fileno()], [], [], 5)
    assert arrived  # the notification reached the socket (it is delivered asynchronously)
    cursors_opened.clear()
    _new_request()
    assert cursors_opened == ["cursor"]  # Django's SELECT 1, which read the notification
    assert _backend_pid() == pid
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
