from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings

from donations import frequencies
from donations.models import CURRENCY_SYMBOLS, Currency
from newsroom.forms import HoneypotForm

SAFE_PATH = re.compile(r"^/(?!/)[\w\-./]*$")
SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")


def minimum(frequency: str) -> Decimal:
    return Decimal(settings.DONATIONS_MINIMUMS[frequencies.get(frequency).value])


def maximum() -> Decimal:
    return Decimal(settings.DONATIONS_MAXIMUM)


def money(amount: Decimal, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(Currency(currency), "")
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"{symbol}{text}"


class SupportForm(HoneypotForm):
    """The banner's choice: how often, how much (a preset or a custom amount), which currency."""

    frequency = forms.ChoiceField(choices=frequencies.choices)
    currency = forms.ChoiceField(
        choices=Currency.choices,
        error_messages={"required": "Choose a currency.",
                        "invalid_choice": "Choose USD, EUR or GBP."},
    )  # fmt: skip
    amount = forms.CharField(required=False, max_length=20)
    custom_amount = forms.CharField(required=False, max_length=20, label="Other amount")
    source_page = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    attempt = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["frequency"].error_messages.update(
            required="Choose how often to give.",
            invalid_choice=f"Choose how often to give: {frequencies.adverbs()}.",
        )

    def clean_source_page(self) -> str:
        page: str = self.cleaned_data.get("source_page", "")
        return page if SAFE_PATH.match(page) else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = (data.get("custom_amount") or "").strip() or (data.get("amount") or "").strip()
        frequency, currency = data.get("frequency"), data.get("currency")
        if not raw:
            self.add_error("custom_amount", "Choose an amount or enter your own.")
            return data
        try:
            amount = Decimal(raw.replace(",", "").lstrip("$€£"))
        except InvalidOperation:
            self.add_error("custom_amount", "Enter an amount as a number, like 5 or 12.50.")
            return data
        if not amount.is_finite() or amount <= 0:
            self.add_error("custom_amount", "Enter an amount greater than zero.")
        elif amount != amount.quantize(Decimal("0.01")):
            self.add_error("custom_amount", "Enter an amount with at most two decimals.")
        elif frequency and currency:
            low, high = minimum(frequency), maximum()
            words = frequencies.get(frequency).gift_words
            if amount < low:
                self.add_error("custom_amount", f"The smallest {words} is {money(low, currency)}.")
            elif amount > high:
                self.add_error(
                    "custom_amount",
                    f"The largest gift we take online is {money(high, currency)}. "
                    "Please write to us for larger gifts.",
                )
        data["amount_value"] = amount.quantize(Decimal("0.01")) if amount.is_finite() else None
        return data


class EmailForm(HoneypotForm):
    email = forms.EmailField(
        max_length=254,
        error_messages={"required": "Enter your email address.",
                        "invalid": "Enter a valid email address."},
    )  # fmt: skip


class SessionForm(forms.Form):
    session_id = forms.RegexField(regex=SESSION_ID, max_length=255)
