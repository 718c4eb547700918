"""Amounts people type: one reading for every form that takes one (the support banner and
page, the donor's page), so `5,50` is 5.50 everywhere and nothing unreadable reaches Stripe.

`parse_amount(text, currency)` returns a positive `Decimal` with the currency's decimals (two:
`stripe_client.money.MINOR_UNITS`) or raises `InvalidAmount` with a message for the reader:

- digits of any script are digits (full-width, Arabic-Indic, Devanagari, ...), after Unicode
  NFKC (full-width signs and separators are read as theirs); a character that only looks like
  digits (superscript two, one half, circled one) is not;
- one `.` or `,` is the decimal separator where it can only be one (`5,50`, `5,5`, `12.5`);
  one followed by exactly three digits after a 1-3 digit number (`1,000`, `1.000`, `5,500`)
  could be a thousands separator, so it is refused with both readings, never multiplied;
  grouped digits (`1,000.50`, `1 000`, `1'000`) are refused with a request to write them
  without the separator;
- a currency sign or code (`$5`, `5 USD`, `€ 5`) is read when it names the currency of the
  gift, refused when it names another;
- exponents (`1e3`), `NaN` and `Infinity`, a minus sign, zero, more decimals than the
  currency has (`0.001`; zeros beyond them, as in `5.5000`, are fine) and amounts beyond
  what our columns hold (`AmountTooLarge`) are refused.

`gift_amount(...)` adds the live appeal's smallest and largest gift (`limits`) for the
currency and frequency; `AmountField` is the form field the text comes in through.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from django import forms

from donations import frequencies
from donations.appeals.config import live_appeal
from donations.models import CURRENCY_SYMBOLS, Currency
from donations.stripe_client.money import MAX_MINOR, MINOR_UNITS
from newsroom.errors import InvalidInput

MAX_TEXT = 64  # characters read at all; no amount we take is longer

EMPTY = "Enter an amount, like 5 or 12.50."
NUMBER = "Enter an amount as a number, like 5 or 12.50."
EXPONENT = "Enter the amount in full, like 5 or 12.50, without an exponent (e3)."
POSITIVE = "Enter an amount greater than zero."
DECIMALS = "Enter an amount with at most two decimals, like 12.50."
GROUPED = (
    "Enter the amount without a thousands separator, like 1000 or 1000.50 "
    "(a comma or a point only before the cents)."
)
AMBIGUOUS = (
    "“{text}” could mean {small} or {large}: please enter it without a thousands separator "
    "({large}) or with two decimals ({small})."
)
GROUPED_ONE = (
    "Enter an amount with at most two decimals, like 12.50, or without a thousands "
    "separator, like {large}."
)
OTHER_CURRENCY = "We take gifts in USD, EUR or GBP. Enter the amount as a number, like 5 or 12.50."
WRONG_CURRENCY = "This gift is in {chosen}: enter the amount in {chosen}, without {typed}."
TOO_LARGE = "That is more than we can take online. Please write to us for larger gifts."
NOT_TAKING = "We are not taking gifts online right now."

MINUS = "\u2212-"  # minus sign, hyphen-minus (last: literal in a character class)
SIGNS = {str(symbol): str(code) for code, symbol in CURRENCY_SYMBOLS.items()}
MARK = r"[$€£]|usd|eur|gbp|us\$"
SHAPE = re.compile(
    rf"(?P<sign>[+{MINUS}]?)\s*(?P<pre>{MARK})?\s*(?P<sign2>[+{MINUS}]?)\s*"
    rf"(?P<number>.*?)\s*(?P<post>{MARK})?",
    re.DOTALL,
)
SEPARATORS = ".,'\u2019 _"  # decimal or grouping; the apostrophes group (Swiss 1'000)
DIGITS_AND_SEPARATORS = re.compile(rf"[\d{SEPARATORS}]*\d[\d{SEPARATORS}]*", re.ASCII)
GROUPS = re.compile(rf"\d{{1,3}}([{SEPARATORS}]\d{{3}})+([.,]\d*)?", re.ASCII)
EXPONENT_SHAPE = re.compile(r"[\d.,]*\d[\d.,]*e[-+]?\d*|[\d.,]*e[-+]?\d+", re.ASCII)
FOREIGN = re.compile(r"[a-z]{3}\s*[\d.,]+|[\d.,]+\s*[a-z]{3}|[¥₹₩₽¢]\s*[\d.,]+")
NOT_A_NUMBER = {"nan", "snan", "inf", "infinity", "∞"}


class InvalidAmount(InvalidInput):
    """A typed amount we cannot take as typed; `message` says what to type instead."""


class AmountTooLarge(InvalidAmount):
    """More than our columns (and Stripe) hold; a form with limits names its largest gift."""

    default_message = TOO_LARGE


class NotTakingGifts(InvalidInput):
    """No live appeal sets limits for this currency and frequency: no amount is taken."""

    default_message = NOT_TAKING


def limits(currency: str, frequency: str) -> tuple[Decimal, Decimal] | None:
    """The live appeal's smallest and largest gift for this currency and frequency (staff
    edit them with the appeal); None while no appeal is live or it sets none for them."""
    live = live_appeal()
    return live.limit(currency, frequency) if live is not None else None


def money(amount: Decimal, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(Currency(currency), "")
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"{symbol}{text}"


def places(currency: str | None) -> int:
    """The currency's decimals (2 for every currency we take); any supported one's when the
    currency is not known yet."""
    factor = MINOR_UNITS.get((currency or "").lower()) or min(MINOR_UNITS.values())
    return len(str(factor)) - 1


def _normalised(text: str) -> str:
    """Digits of every script as ASCII digits, NFKC for the rest (a full-width dollar sign
    or comma is read as one), lower case. A character NFKC would turn into digits without
    being one (superscript two, circled one) stays as it is, so the grammar refuses it
    instead of reading five squared as 52."""
    out = []
    for char in text:
        if unicodedata.category(char) == "Nd":
            out.append(str(unicodedata.decimal(char)))
        elif char == "\u066b":  # ARABIC DECIMAL SEPARATOR
            out.append(".")
        elif char == "\u066c":  # ARABIC THOUSANDS SEPARATOR
            out.append("'")
        else:
            folded = unicodedata.normalize("NFKC", char)
            out.append(char if any(c.isdigit() for c in folded) else folded)
    return "".join(out).strip().lower()


def _currency_of(mark: str | None) -> str | None:
    if not mark:
        return None
    return "usd" if mark == "us$" else SIGNS.get(mark, mark)


def _check_marks(pre: str | None, post: str | None, currency: str | None) -> None:
    """A sign or code before or after the number names the gift's currency, or is refused."""
    named = {_currency_of(mark) for mark in (pre, post) if mark}
    if len(named) > 1:
        raise InvalidAmount(NUMBER)
    if currency and named and named != {currency}:
        typed = pre or post or ""
        raise InvalidAmount(WRONG_CURRENCY.format(chosen=currency.upper(), typed=typed.upper()))


def _split(number: str, text: str) -> tuple[str, str]:
    """The integer and fraction digits, the separator read as described above."""
    if not DIGITS_AND_SEPARATORS.fullmatch(number):
        raise InvalidAmount(NUMBER)
    found = [c for c in number if c in SEPARATORS]
    if not found:
        return number, ""
    if len(found) == 1 and found[0] in ".,":
        left, right = number.split(found[0])
        if len(right) == 3 and 1 <= len(left) <= 3 and not left.startswith("0"):
            large, typed = left + right, text.strip()
            if right.endswith("0"):  # 1,000: one or a thousand; 5,500: 5.50 or 5500
                small = f"{left}.{right[:2]}"
                raise InvalidAmount(AMBIGUOUS.format(text=typed, small=small, large=large))
            raise InvalidAmount(GROUPED_ONE.format(large=large))  # 1,234: 1234 or 3 decimals
        return left, right
    raise InvalidAmount(GROUPED if GROUPS.fullmatch(number) else NUMBER)


def _read_shape(normal: str, currency: str | None) -> tuple[str, bool]:
    """The number part of `normal` (signs and currency marks checked and taken off) and
    whether a minus sign came with it; what is not an amount at all is refused here."""
    shape = SHAPE.fullmatch(normal)
    if shape is None:  # pragma: no cover - the pattern matches every string
        raise InvalidAmount(NUMBER)
    number = shape["number"]
    if not number or number in NOT_A_NUMBER:
        raise InvalidAmount(NUMBER)
    if EXPONENT_SHAPE.fullmatch(number):
        raise InvalidAmount(EXPONENT)
    if FOREIGN.fullmatch(number):
        raise InvalidAmount(OTHER_CURRENCY)
    _check_marks(shape["pre"], shape["post"], currency)
    signs = shape["sign"] + shape["sign2"]
    return number, any(sign in MINUS for sign in signs)


def parse_amount(text: str, currency: str | None) -> Decimal:
    """The amount `text` names in `currency` (lower-case code; None: not chosen yet, any
    currency's sign is read), with its decimals; `InvalidAmount` says what is wrong."""
    if len(text) > MAX_TEXT:
        raise InvalidAmount(NUMBER)
    normal = _normalised(text)
    if not normal:
        raise InvalidAmount(EMPTY)
    number, negative = _read_shape(normal, currency)
    whole, fraction = _split(number, text)
    decimals = places(currency)
    if fraction[decimals:].strip("0"):
        raise InvalidAmount(DECIMALS)
    whole = whole.lstrip("0")
    if len(whole) > len(str(MAX_MINOR)):
        raise AmountTooLarge()
    digits = f"{whole or '0'}.{fraction[:decimals].ljust(decimals, '0')}" if decimals else whole
    amount = Decimal(digits or "0")
    if negative or amount <= 0:
        raise InvalidAmount(POSITIVE)
    if amount > Decimal(MAX_MINOR).scaleb(-decimals):
        raise AmountTooLarge()
    return amount


def gift_amount(text: str, *, currency: str | None, frequency: str | None) -> Decimal:
    """`parse_amount`, then the live appeal's smallest and largest gift for the currency
    and frequency. Without both (the form has an error about them) only the reading is
    checked, so the reader learns every problem at once."""
    if not (currency and frequency):
        return parse_amount(text, currency)
    amount: Decimal | None
    try:
        amount = parse_amount(text, currency)
    except AmountTooLarge:
        amount = None  # beyond any limit
    found = limits(currency, frequency)
    if found is None:
        raise NotTakingGifts()
    low, high = found
    if amount is None or amount > high:
        raise AmountTooLarge(
            f"The largest gift we take online is {money(high, currency)}. "
            "Please write to us for larger gifts."
        )
    if amount < low:
        words = frequencies.get(frequency).gift_words
        raise InvalidAmount(f"The smallest {words} is {money(low, currency)}.")
    return amount


class AmountField(forms.CharField):
    """A typed amount: the text as typed (stripped), read by `gift_amount` in the form's
    `clean()` once the currency and frequency are known. Longer text than any amount gets the
    amount's own message, not a count of characters."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value) or "")
        if len(text) > MAX_TEXT:
            raise forms.ValidationError(NUMBER, code="invalid")
        return text
