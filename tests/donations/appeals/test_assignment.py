"""Each browser gets one variant, by the weights, kept in a cookie that holds only its number."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client, override_settings
from django.utils import timezone

from donations.appeals.assignment import draw
from donations.appeals.config import live_appeal
from donations.appeals.middleware import variant_cookie
from donations.appeals.store import today
from tests.donations.appeals.experiments import running_experiment, two_variants

pytestmark = pytest.mark.django_db

# The chi-square distribution's 99th percentile (reject at 1%) by degrees of freedom.
CHI2_CRITICAL_1_PERCENT = {1: 6.635, 2: 9.210, 3: 11.345}


def shown_variant(page: str) -> int:
    found = re.search(r'name="variant" value="(\d+)"', page)
    assert found is not None
    return int(found.group(1))


def test_a_browser_keeps_its_variant_and_sees_its_copy(client: Client) -> None:
    _, (a, b) = two_variants()
    first = client.get("/")
    cookie = first.cookies["support_variant"]
    assert cookie.value in {str(a.pk), str(b.pk)}
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    variant = shown_variant(first.content.decode())
    assert str(variant) == cookie.value
    for _ in range(5):
        again = client.get("/")
        assert shown_variant(again.content.decode()) == variant
        assert "support_variant" not in again.cookies  # set once, then only read
    page = client.get("/").content.decode()
    if variant == b.pk:
        assert "Ten seconds of your time" in page
        assert "We are <strong>small</strong>" in page
        assert 'name="amount" value="4" checked' in page  # B's own amounts
    else:
        assert "A message from The Independent Ledger" in page
        assert 'name="amount" value="5" checked' in page  # the appeal's


def test_a_cookie_naming_no_running_variant_gets_a_fresh_draw(client: Client) -> None:
    _, (a, b) = two_variants()
    client.cookies["support_variant"] = "999999"
    response = client.get("/")
    assert response.cookies["support_variant"].value in {str(a.pk), str(b.pk)}


def test_without_an_experiment_no_variant_cookie_is_set(client: Client) -> None:
    response = client.get("/")
    assert "support_variant" not in response.cookies
    assert 'name="variant" value=""' in response.content.decode()


@pytest.mark.parametrize("weights", [(1, 1), (3, 1), (5, 3, 2)])
def test_assignment_follows_the_weights_chi_square_at_one_percent(
    weights: tuple[int, ...],
) -> None:
    running_experiment(*({"name": f"V{n}", "weight": w} for n, w in enumerate(weights)))
    live = live_appeal()
    assert live is not None
    rng = random.Random(20261203)  # fixed seed: the same 10,000 first visits every run
    visits = 10_000
    seen = Counter(draw(live.arms, rng).id for _ in range(visits))
    total = sum(weights)
    statistic = sum(
        (seen[arm.id] - visits * arm.weight / total) ** 2 / (visits * arm.weight / total)
        for arm in live.arms
    )
    assert statistic < CHI2_CRITICAL_1_PERCENT[len(weights) - 1], (statistic, seen)


def test_first_visits_through_the_page_spread_over_both_variants() -> None:
    _, (a, b) = two_variants()
    seen = Counter(shown_variant(Client().get("/").content.decode()) for _ in range(60))
    assert set(seen) == {a.pk, b.pk}  # (1/2)^59 chance of one-sided: effectively never


def test_a_variant_with_amounts_for_one_currency_keeps_the_appeals_for_the_others(
    client: Client,
) -> None:
    _, (_a, b) = two_variants()  # B offers its own monthly USD amounts only
    client.cookies["support_variant"] = str(b.pk)
    usd = client.get("/", headers={"Accept-Language": "en-US"}).content.decode()
    assert 'name="amount" value="4" checked' in usd
    assert 'name="amount" value="8"' in usd
    eur = client.get("/", headers={"Accept-Language": "de-DE"}).content.decode()
    assert 'name="amount" value="5" checked' in eur  # the appeal's monthly EUR amounts
    assert 'name="amount" value="10"' in eur


@pytest.mark.parametrize("secure", [False, True])
def test_the_variant_cookie_is_byte_for_byte_what_set_cookie_makes(secure: bool) -> None:
    with time_machine.travel(datetime(2026, 12, 3, 11, 59, 59, 900000, tzinfo=UTC), tick=False):
        django_made = HttpResponse()
        django_made.set_cookie(
            "support_variant", "12", max_age=90 * 86400, httponly=True, samesite="Lax",
            secure=secure,
        )  # fmt: skip
        ours = HttpResponse()
        ours.cookies["support_variant"] = variant_cookie(12, secure)
        again = variant_cookie(12, secure)  # built once this second, a copy each time
    assert (
        ours.cookies["support_variant"].output() == django_made.cookies["support_variant"].output()
    )
    assert again is not ours.cookies["support_variant"]
    again["max-age"] = 1  # a change to one response's cookie...
    assert variant_cookie(12, secure)["max-age"] == 90 * 86400  # ...is not the next one's


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/New_York"])
def test_the_counters_day_is_the_local_date_each_second_across_midnight(zone: str) -> None:
    with (
        override_settings(TIME_ZONE=zone),
        time_machine.travel(
            datetime(2026, 3, 8, 0, 0, 0, tzinfo=ZoneInfo(zone)) - timedelta(seconds=2), tick=False
        ) as traveller,
    ):
        for _ in range(5):  # two seconds before midnight to two after, asked twice a second
            assert today() == timezone.localdate()
            assert today() == timezone.localdate()
            traveller.shift(1)
        traveller.move_to(datetime(2026, 3, 1, 12, tzinfo=ZoneInfo(zone)))  # back in time too
        assert today() == timezone.localdate() == date(2026, 3, 1)
