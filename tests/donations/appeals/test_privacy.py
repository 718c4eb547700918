"""No email address or IP address reaches a counter, a cookie or a log line, through the
whole flow: page views, a checkout from a variant, the payment's signed webhooks, the fold."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from donations.appeals.models import CountedCheckout, FoldLedger, VariantDay, VariantGifts
from donations.appeals.services.counting import fold_counters
from donations.appeals.store import MemoryStore, reset_store, store
from donations.standin import StripeStandin
from newsroom.logs import JsonFormatter, KeyValueFormatter
from tests.donations.appeals.experiments import two_variants
from tests.donations.flow import checkout, deliver_all
from tests.services import need_redis

pytestmark = pytest.mark.django_db

EMAIL = "secret.giver@example.org"
READER_IP = "198.51.100.23"


def test_no_email_or_ip_in_counters_cookies_or_logs(
    stripe_standin: StripeStandin,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    need_redis()
    caplog.set_level(logging.DEBUG)
    _, (_a, b) = two_variants()
    reader = Client(REMOTE_ADDR=READER_IP, HTTP_X_FORWARDED_FOR=READER_IP)
    cookies_set = []
    for _ in range(3):
        cookies_set.append(reader.get("/", headers={"Accept-Language": "de-DE"}).cookies)
    session_id = checkout(reader, variant=str(b.pk))
    stripe_standin.pay(session_id, email=EMAIL)
    deliver_all(reader, stripe_standin, django_capture_on_commit_callbacks)
    cookies_set.append(reader.get(f"/support/thank-you/?session_id={session_id}").cookies)
    redis = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
    in_redis = [(key, redis.type(key), redis.dump(key)) for key in redis.keys("appeal:*")]
    assert in_redis  # the counters are there to look at
    fold_counters()

    counters = repr([
        list(model.objects.values()) for model in (VariantDay, VariantGifts, CountedCheckout,
                                                    FoldLedger)
    ])  # fmt: skip
    cookies = repr([(m.key, m.value) for jar in cookies_set for m in jar.values()])
    cookies += repr([(m.key, m.value) for m in reader.cookies.values()])
    logs = "\n".join(
        formatter.format(record)
        for record in caplog.records
        for formatter in (KeyValueFormatter(), JsonFormatter())
    )
    raw_logs = "".join(repr(vars(record)) for record in caplog.records)
    assert "support_variant" in cookies
    assert "support_given" in cookies  # the thank-you page of a monthly gift
    assert "appeal gift counted" in logs
    for place in (repr(in_redis), counters, cookies, logs, raw_logs):
        assert EMAIL not in place
        assert READER_IP not in place
    assert session_id not in counters  # the gift ledger keeps a keyed hash only
    assert {m.key for m in reader.cookies.values()} <= {
        "support_variant",
        "support_currency",
        "support_given",
    }


def test_without_redis_the_demo_counts_in_the_process_and_folds_once() -> None:
    reset_store()
    import donations.appeals.store as module

    module._stores[True] = module._stores[False] = MemoryStore()
    try:
        two_variants()
        for _ in range(4):
            Client().get("/")
        assert isinstance(store(), MemoryStore)
        fold_counters()
        fold_counters()
        assert sum(VariantDay.objects.values_list("impressions", flat=True)) == 4
    finally:
        reset_store()
