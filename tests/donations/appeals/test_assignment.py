"""Each browser gets one variant, by the weights, kept in a cookie that holds only its number."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from django.test import Client

from donations.appeals.assignment import draw
from donations.appeals.config import live_appeal
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
