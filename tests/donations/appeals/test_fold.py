"""Impressions and checkout starts are counted in Redis and folded into the database by a beat
task, exactly once: run twice, after a crash, or two at a time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from donations.appeals.models import FoldLedger, VariantDay
from donations.appeals.services.counting import fold_counters
from donations.appeals.store import FOLDING_KEY, store
from newsroom.celery_app import app
from tests.donations.appeals.experiments import two_variants
from tests.services import need_postgresql, need_redis

pytestmark = pytest.mark.django_db


def views(n: int) -> None:
    for _ in range(n):
        Client().get("/")


def impressions() -> int:
    return sum(VariantDay.objects.values_list("impressions", flat=True))


def test_fold_moves_counts_into_the_database_exactly_once() -> None:
    two_variants()
    views(12)
    assert impressions() == 0  # counting wrote nothing to the database
    assert fold_counters() >= 1
    assert impressions() == 12
    assert fold_counters() == 0  # run twice, counted once
    assert impressions() == 12
    views(3)
    fold_counters()
    assert impressions() == 15


def test_a_fold_that_crashed_after_its_commit_is_not_counted_again() -> None:
    need_redis()
    two_variants()
    views(7)
    counter_store = store()
    batches = counter_store.take()  # the fold took the counts...
    from donations.appeals.services.counting import _apply

    for batch in batches:
        _apply(batch)  # ...committed them, and died before clearing Redis
    assert impressions() == 7
    assert fold_counters() == 0  # the next run finds the ledger rows: nothing added twice
    assert impressions() == 7
    assert not store().take()
    client = counter_store._client()  # type: ignore[attr-defined]
    assert client.scard(FOLDING_KEY) == 0


def test_a_fold_that_crashed_before_its_commit_is_counted_by_the_next() -> None:
    need_redis()
    two_variants()
    views(5)
    store().take()  # took the counts, then died before writing them
    views(2)  # counting goes on meanwhile
    fold_counters()
    assert impressions() == 7


@pytest.mark.django_db(transaction=True)
def test_two_folds_at_once_count_each_impression_once() -> None:
    need_redis()
    need_postgresql()
    two_variants()
    views(20)
    errors: list[BaseException] = []

    def fold() -> None:
        try:
            fold_counters()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fold) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert impressions() == 20
    assert FoldLedger.objects.count() >= 1


def test_the_fold_is_on_beats_schedule() -> None:
    schedule = app.conf.beat_schedule
    assert schedule["appeals-fold-counters"]["task"] == "appeals.tasks.fold_counters"
    assert "appeals.tasks.fold_counters" in app.tasks
