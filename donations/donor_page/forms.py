"""Forms of the donor's page. Each change is two POSTs: the choice, then its confirmation;
the confirmation carries a random key (`attempt`), so a double submit is one change."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from django import forms

from donations import frequencies
from donations.forms import limits, money

AMOUNT = re.compile(r"^\s*[$€£]?\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$")
ATTEMPT = re.compile(r"^[0-9a-f]{32}$")


def new_attempt() -> str:
    return uuid.uuid4().hex


class ConfirmForm(forms.Form):
    """Step two of any change: `confirm` says the donor saw the summary."""

    attempt = forms.RegexField(regex=ATTEMPT, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TermsForm(ConfirmForm):
    """A recurring gift's new amount and frequency (its currency stays)."""

    amount = forms.CharField(max_length=20, label="Amount")
    frequency = forms.ChoiceField(
        choices=lambda: [(row.value, row.label) for row in frequencies.recurring()],
        label="How often",
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        match = AMOUNT.match(data.get("amount") or "")
        if match is None:
            self.add_error("amount", "Enter an amount as a number, like 5 or 12.50.")
            return data
        amount = Decimal(f"{match[1]}.{(match[2] or '0').ljust(2, '0')}")
        frequency = data.get("frequency")
        if frequency is None:
            return data
        found = limits(self.currency, frequency)
        if found is None:
            self.add_error(None, "We are not taking changes online right now; please write to us.")
            return data
        low, high = found
        if amount < low:
            words = frequencies.get(frequency).gift_words
            self.add_error("amount", f"The smallest {words} is {money(low, self.currency)}.")
        elif amount > high:
            self.add_error(
                "amount",
                f"The largest gift we take online is {money(high, self.currency)}.",
            )
        data["amount_value"] = amount
        return data
