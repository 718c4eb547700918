"""The reader's currency from the request alone: the switch cookie, the CDN's country header,
the browser's language region, else the default; and the switch is remembered."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donations.appeals.currency import preferred_language, region_of
from donations.appeals.models import Experiment
from tests.donations.appeals.experiments import two_variants

pytestmark = pytest.mark.django_db


def shown_currency(client: Client, **headers: str) -> str:
    page = client.get("/", headers=headers).content.decode()
    selected = [c for c in ("usd", "eur", "gbp") if f'<option value="{c}" selected>' in page]
    assert len(selected) == 1
    return selected[0]


@override_settings(COUNTRY_HEADER="CF-IPCountry")
@pytest.mark.parametrize(
    ("country", "expected"), [("DE", "eur"), ("gb", "gbp"), ("US", "usd"), ("BG", "eur")]
)
def test_the_country_header_when_configured(client: Client, country: str, expected: str) -> None:
    assert shown_currency(client, **{"CF-IPCountry": country, "Accept-Language": "en-US"}) == (
        expected
    )


@override_settings(COUNTRY_HEADER="CF-IPCountry")
def test_an_unknown_country_falls_through_to_the_language(client: Client) -> None:
    assert shown_currency(client, **{"CF-IPCountry": "XX", "Accept-Language": "en-GB"}) == "gbp"


@override_settings(COUNTRY_HEADER="")
def test_the_header_is_ignored_unless_configured(client: Client) -> None:
    assert shown_currency(client, **{"CF-IPCountry": "DE", "Accept-Language": "en-US"}) == "usd"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "usd"),
        ("en-GB,en;q=0.8", "gbp"),
        ("de-DE,de;q=0.9,en;q=0.5", "eur"),
        ("fr-FR", "eur"),
        ("nl-BE;q=0.9, en-GB;q=0.4", "eur"),
        ("en;q=0.3, pt-PT;q=0.8", "eur"),
        ("es-419", "usd"),  # a numeric region names no country: the default
        ("ja-JP", "usd"),  # a region with another currency: the default
        ("", "usd"),
        ("*", "usd"),
        ("garbage;;;q=x,,", "usd"),
    ],
)
def test_the_region_of_the_preferred_language(client: Client, header: str, expected: str) -> None:
    assert shown_currency(client, **{"Accept-Language": header}) == expected


@override_settings(DONATIONS_DEFAULT_CURRENCY="gbp")
def test_the_default_when_nothing_says_otherwise(client: Client) -> None:
    assert shown_currency(client) == "gbp"


@override_settings(COUNTRY_HEADER="CF-IPCountry")
def test_the_readers_switch_wins_and_is_remembered(client: Client) -> None:
    client.cookies["support_currency"] = "gbp"
    assert shown_currency(client, **{"CF-IPCountry": "DE", "Accept-Language": "en-US"}) == "gbp"
    client.cookies["support_currency"] = "not-a-currency"
    assert shown_currency(client, **{"CF-IPCountry": "DE"}) == "eur"


def test_choosing_a_currency_in_the_form_sets_the_switch_cookie(
    client: Client, stripe_standin: object
) -> None:
    response = client.post(
        "/support/checkout/", {"frequency": "once", "currency": "eur", "amount": "25"}
    )
    assert response.status_code == 303
    cookie = response.cookies["support_currency"]
    assert cookie.value == "eur"
    assert cookie["samesite"] == "Lax"
    assert shown_currency(client, **{"Accept-Language": "en-US"}) == "eur"


def test_language_parsing_helpers() -> None:
    assert preferred_language("en;q=0.5, de-AT;q=0.9, fr") == "fr"
    assert region_of("zh-Hant-TW") == "TW"
    assert region_of("de") == ""


@override_settings(COUNTRY_HEADER="CF-IPCountry", DONATIONS_CHECKOUT_RATE="100000/m")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    variant=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
    currency=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=10),
    language=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    country=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=6),
)
def test_any_cookie_or_header_gets_the_article_never_a_500(
    client: Client, variant: str, currency: str, language: str, country: str
) -> None:
    if not Experiment.objects.filter(status="running").exists():  # examples share the database
        two_variants()
    client.cookies["support_variant"] = variant.replace(";", "")
    client.cookies["support_currency"] = currency.replace(";", "")
    response = client.get("/", headers={"Accept-Language": language, "CF-IPCountry": country})
    assert response.status_code == 200
    response = client.post("/support/checkout/", {"frequency": "monthly", "currency": "usd",
                                                  "amount": "0", "variant": variant})  # fmt: skip
    assert response.status_code == 400  # the form answers; Stripe is never asked
