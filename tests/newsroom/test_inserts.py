"""`insert_if_new`: one INSERT that tells a new row from a known one, without a savepoint."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from donations.models import Donor
from newsroom.inserts import insert_if_new
from tests.services import need_postgresql


@pytest.mark.django_db
def test_a_new_row_is_inserted_in_one_statement_with_its_key_and_timestamps() -> None:
    donor = Donor(email="a@example.org", stripe_customer_id="cus_1")
    with CaptureQueriesContext(connection) as queries:
        assert insert_if_new(donor) is True
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    stored = Donor.objects.get(pk=donor.pk)
    assert (stored.email, stored.stripe_customer_id) == ("a@example.org", "cus_1")
    assert donor.created_at is not None
    assert donor.created_at == stored.created_at
    assert not donor._state.adding


@pytest.mark.django_db
def test_a_taken_unique_value_inserts_nothing_and_leaves_the_transaction_usable() -> None:
    Donor.objects.create(email="a@example.org")
    with transaction.atomic():
        assert insert_if_new(Donor(email="a@example.org", stripe_customer_id="cus_2")) is False
        assert insert_if_new(Donor(email="b@example.org", stripe_customer_id="cus_2")) is True
    assert Donor.objects.count() == 2
    assert Donor.objects.get(email="a@example.org").stripe_customer_id is None


@pytest.mark.django_db
def test_a_saved_instance_is_refused() -> None:
    donor = Donor.objects.create(email="a@example.org")
    with pytest.raises(ValueError, match="new instance"):
        insert_if_new(donor)


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_uncommitted_insert_is_waited_for_then_seen_as_taken() -> None:
    need_postgresql()
    inserted, done = threading.Event(), threading.Event()
    outcome: list[bool] = []

    def first() -> None:
        try:
            with transaction.atomic():
                Donor.objects.create(email="a@example.org")
                inserted.set()
                done.wait(timeout=10)  # hold the row uncommitted while the other inserts
        finally:
            connection.close()

    def second() -> None:
        try:
            inserted.wait(timeout=10)
            outcome.append(insert_if_new(Donor(email="a@example.org")))
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive(), "the second INSERT should wait for the first to commit"
    done.set()
    for thread in threads:
        thread.join(timeout=10)
    assert outcome == [False]
    assert Donor.objects.count() == 1
