"""Properties of typed amounts over arbitrary input: the reader (`parse_amount`) and the form
fields built on it raise nothing but a reader-facing error and accept only positive amounts
with at most two decimals within the live appeal's limits; a comma never multiplies; and the
whole support form, POSTed with any values, answers with a page or a redirect, never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from donations.amounts import InvalidAmount, limits, parse_amount
from donations.donor_page.forms import TermsForm
from donations.forms import SupportForm
from donations.standin import StripeStandin
from donations.stripe_client.money import MAX_MINOR

CURRENCIES = ["usd", "eur", "gbp"]
FREQUENCIES = ["once", "monthly", "annual"]
# Text shaped like an amount (digits of several scripts, separators, signs, exponents, marks),
# where the interesting cases are, besides any text at all.
AMOUNT_LIKE = st.from_regex(
    r"\A[-+\u2212]?\s?(US\$|[$€£¥]|usd|EUR)?\s?[0-9\u0660-\u0669\uff10-\uff19]{0,14}"
    r"([.,'\u066b\s][0-9]{0,4}){0,3}([eE][-+]?[0-9]{0,4})?\s?(usd|eur|GBP|jpy|€)?\Z",
)
ANY_TEXT = st.one_of(st.text(max_size=80), AMOUNT_LIKE)
# Amounts that may well be taken (with a point or a comma), so accepted paths are walked too.
PLAIN = st.integers(min_value=1, max_value=1_200_000).map(lambda c: str(Decimal(c).scaleb(-2)))
TYPED = st.one_of(ANY_TEXT, PLAIN, PLAIN.map(lambda text: text.replace(".", ",")))
FAST = settings(max_examples=300, deadline=None)
WITH_DB = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _well_formed(amount: Decimal) -> bool:
    return amount.is_finite() and amount > 0 and amount.as_tuple().exponent == -2


@FAST
@given(text=ANY_TEXT, currency=st.sampled_from([*CURRENCIES, None]))
@example(text="1e309", currency="usd")
@example(text="9" * 64, currency="eur")
@example(text="\uff15", currency=None)
def test_reading_any_text_is_an_amount_with_two_decimals_or_a_message(
    text: str, currency: str | None
) -> None:
    try:
        amount: Decimal | str = parse_amount(text, currency)
    except InvalidAmount as error:
        amount = error.message
    if isinstance(amount, str):
        event("refused")
        assert amount.endswith(".")  # a sentence for the reader, not an exception's text
        return
    event("accepted")
    assert _well_formed(amount)
    assert amount * 100 <= MAX_MINOR


@FAST
@given(
    cents=st.integers(min_value=1, max_value=MAX_MINOR),
    currency=st.sampled_from(CURRENCIES),
    mark=st.sampled_from(["", "{symbol}", "{symbol} ", " {code}", "+"]),
)
def test_a_comma_before_the_cents_is_the_decimal_separator_and_never_multiplies(
    cents: int, currency: str, mark: str
) -> None:
    amount = Decimal(cents).scaleb(-2)
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}[currency]
    for text in (f"{amount}", f"{amount}".replace(".", ","), f"{amount}".rstrip("0")):
        typed = mark.format(symbol=symbol, code=currency.upper())
        typed = f"{text}{typed}" if typed.startswith(" ") else f"{typed}{text}"
        assert parse_amount(typed, currency) == amount, typed


@pytest.mark.django_db
@WITH_DB
@given(
    custom=TYPED,
    preset=st.one_of(st.just(""), TYPED),
    frequency=st.sampled_from(FREQUENCIES),
    currency=st.sampled_from(CURRENCIES),
)
@example(custom="1e30", preset="", frequency="monthly", currency="usd")
@example(custom="", preset="5,50", frequency="monthly", currency="eur")
def test_the_support_forms_amount_is_within_the_limits_with_two_decimals_or_an_error(
    custom: str, preset: str, frequency: str, currency: str
) -> None:
    form = SupportForm(
        {"frequency": frequency, "currency": currency, "amount": preset, "custom_amount": custom}
    )
    if not form.is_valid():
        event("refused")
        assert form.errors
        return
    event("accepted")
    amount = form.cleaned_data["amount_value"]
    found = limits(currency, frequency)
    assert found is not None
    assert _well_formed(amount)
    assert found[0] <= amount <= found[1]


@pytest.mark.django_db
@WITH_DB
@given(text=TYPED, frequency=st.sampled_from(["monthly", "annual"]))
def test_the_donor_pages_amount_is_within_the_limits_with_two_decimals_or_an_error(
    text: str, frequency: str
) -> None:
    form = TermsForm({"amount": text, "frequency": frequency, "attempt": "0" * 32}, currency="gbp")
    if not form.is_valid():
        event("refused")
        assert form.errors
        return
    event("accepted")
    amount = form.cleaned_data["amount_value"]
    found = limits("gbp", frequency)
    assert found is not None
    assert _well_formed(amount)
    assert found[0] <= amount <= found[1]


def _choice_or_text(values: list[str]) -> st.SearchStrategy[str]:
    """Mostly one of the form's choices (so the amount is checked against limits), or any text."""
    return st.one_of(st.sampled_from(values), st.sampled_from(values), st.text(max_size=20))


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.fixed_dictionaries(
        {
            "frequency": _choice_or_text(FREQUENCIES),
            "currency": _choice_or_text(CURRENCIES),
            "amount": st.one_of(st.just(""), TYPED),
            "custom_amount": st.one_of(st.just(""), TYPED),
        },
        optional={
            "source_page": st.text(max_size=250),
            "attempt": st.text(max_size=80),
            "variant": st.text(max_size=15),
            "website": st.text(max_size=5),
        },
    )
)
@example(fields={"frequency": "monthly", "currency": "usd", "amount": "", "custom_amount": "1e30"})
@example(fields={"frequency": "monthly", "currency": "eur", "amount": "5", "custom_amount": "5,50"})
@override_settings(DONATIONS_CHECKOUT_RATE="100000/m")
def test_the_whole_support_form_posted_with_any_values_never_answers_500(
    client: Client, stripe_standin: StripeStandin, fields: dict[str, str]
) -> None:
    """A redirect to Checkout for an amount within the limits, or the form again with its
    message; the `Update amounts` button's POST with the same values shows the form."""
    before = len(stripe_standin.requests())
    response = client.post("/support/checkout/", fields)
    sent = stripe_standin.requests()[before:]
    assert response.status_code in {303, 400}
    event(f"status {response.status_code}")
    if response.status_code == 400:
        assert sent == []
    else:
        [session] = [r for r in sent if r["path"] == "/v1/checkout/sessions"]
        price = session["params"]["line_items"][0]["price_data"]
        found = limits(fields["currency"], fields["frequency"])
        assert found is not None
        assert found[0] * 100 <= int(price["unit_amount"]) <= found[1] * 100
    assert client.post("/support/", fields).status_code == 200
