"""Amounts: `Decimal` in the currency's major unit plus its code everywhere but here, where
Stripe's integer minor units are read and written."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Two-decimal currencies only; a zero-decimal currency (JPY, KRW, ...) would need 1 here.
MINOR_UNITS = {"usd": 100, "eur": 100, "gbp": 100}
# The largest amount our columns hold (`max_digits=12, decimal_places=2`), in minor units.
MAX_MINOR = 10**12 - 1


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # lower-case ISO code, one of MINOR_UNITS


def to_minor(amount: Decimal, currency: str) -> int:
    factor = MINOR_UNITS[currency.lower()]
    return int((amount * factor).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    """`KeyError` for a currency we do not take (the parser refuses those first)."""
    return (Decimal(amount) / MINOR_UNITS[currency.lower()]).quantize(Decimal("0.01"))
