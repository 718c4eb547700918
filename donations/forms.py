from __future__ import annotations

import re
from typing import Any

from django import forms

from donations import frequencies
from donations.amounts import AmountField, NotTakingGifts, gift_amount
from donations.models import Currency
from newsroom.errors import InvalidInput
from newsroom.forms import HoneypotForm

SAFE_PATH = re.compile(r"^/(?!/)[\w\-./]*$")
SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")
VARIANT = re.compile(r"^\d{1,11}$")


class SupportForm(HoneypotForm):
    """The banner's choice: how often, how much (a preset or a custom amount), which currency."""

    frequency = forms.ChoiceField(choices=frequencies.choices)
    currency = forms.ChoiceField(
        choices=Currency.choices,
        error_messages={"required": "Choose a currency.",
                        "invalid_choice": "Choose USD, EUR or GBP."},
    )  # fmt: skip
    amount = AmountField()  # the preset chosen
    custom_amount = AmountField(label="Other amount")  # typed; wins over the preset
    source_page = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    attempt = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    variant = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)

    def clean_variant(self) -> int | None:
        """The experiment's variant the banner showed (checked against the running
        experiment by the service; anything else is ignored)."""
        value: str = self.cleaned_data.get("variant", "")
        return int(value) if VARIANT.match(value) else None

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
        """The amount typed (else the preset), read by `donations.amounts` in the currency and
        for the frequency chosen; every problem is on the amount field the reader sees."""
        data = super().clean() or {}
        if self.has_error("custom_amount") or self.has_error("amount"):
            return data
        raw = data.get("custom_amount") or data.get("amount") or ""
        if not raw:
            self.add_error("custom_amount", "Choose an amount or enter your own.")
            return data
        try:
            data["amount_value"] = gift_amount(
                raw, currency=data.get("currency"), frequency=data.get("frequency")
            )
        except NotTakingGifts as error:
            self.add_error(None, error.message)
        except InvalidInput as error:
            self.add_error("custom_amount", error.message)
        return data


class EmailForm(HoneypotForm):
    email = forms.EmailField(
        max_length=254,
        error_messages={"required": "Enter your email address.",
                        "invalid": "Enter a valid email address."},
    )  # fmt: skip


class SessionForm(forms.Form):
    session_id = forms.RegexField(regex=SESSION_ID, max_length=255)
