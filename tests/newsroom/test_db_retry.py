"""A transaction PostgreSQL aborts to break a deadlock runs again; other errors do not."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection

from donations.models import Donor
from newsroom.db_retry import atomic_retrying
from tests.donations.factories import DonorFactory
from tests.services import need_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_transactions_locking_in_opposite_orders_both_commit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    need_postgresql()
    DonorFactory.create_batch(2)
    first, second = Donor.objects.order_by("pk")
    both_hold_one = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def lock_in_order(name: str, pks: tuple[int, int]) -> None:
        attempts.append(name)
        Donor.objects.select_for_update().get(pk=pks[0])
        if attempts.count(name) == 1:
            both_hold_one.wait(timeout=10)
        Donor.objects.filter(pk=pks[1]).update(name=name)

    def run(name: str, pks: tuple[int, int]) -> None:
        try:
            atomic_retrying(lambda: lock_in_order(name, pks), name=name)
        except BaseException as error:  # noqa: BLE001 - collected for the test to assert on
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("a", (first.pk, second.pk))),
        threading.Thread(target=run, args=("b", (second.pk, first.pk))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(attempts) in (["a", "a", "b"], ["a", "b", "b"])  # one ran again
    retried = [r for r in caplog.records if r.getMessage().startswith("transaction aborted")]
    assert [(r.sqlstate, r.attempt) for r in retried] == [("40P01", 1)]  # type: ignore[attr-defined]
    assert {d.name for d in Donor.objects.all()} == {"a", "b"}


def test_another_database_error_is_raised_at_once() -> None:
    calls: list[int] = []

    def duplicate() -> Any:
        calls.append(1)
        DonorFactory(email="same@example.org")
        DonorFactory(email="same@example.org")

    with pytest.raises(IntegrityError):
        atomic_retrying(duplicate, name="duplicate")
    assert calls == [1]
    assert not Donor.objects.exists()  # rolled back


@pytest.mark.django_db(transaction=False)
def test_inside_an_outer_transaction_it_runs_once_in_a_savepoint() -> None:
    calls: list[int] = []
    atomic_retrying(lambda: calls.append(1), name="inner")
    assert calls == [1]
    assert connection.in_atomic_block
