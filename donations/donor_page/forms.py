"""Forms of the donor's page. Each change is two POSTs: the choice, then its confirmation;
the confirmation carries a random key (`attempt`), so a double submit is one change."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms

from donations import frequencies
from donations.amounts import AmountField, NotTakingGifts, gift_amount
from newsroom.errors import InvalidInput

ATTEMPT = re.compile(r"^[0-9a-f]{32}$")


def new_attempt() -> str:
    return uuid.uuid4().hex


class ConfirmForm(forms.Form):
    """Step two of any change: `confirm` says the donor saw the summary."""

    attempt = forms.RegexField(regex=ATTEMPT, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TermsForm(ConfirmForm):
    """A recurring gift's new amount and frequency (its currency stays)."""

    amount = AmountField(
        required=True, label="Amount", error_messages={"required": "Enter the new amount."}
    )
    frequency = forms.ChoiceField(
        choices=lambda: [(row.value, row.label) for row in frequencies.recurring()],
        label="How often",
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self) -> dict[str, Any]:
        """The new amount, read by `donations.amounts` in the gift's currency and within the
        live appeal's limits for the frequency chosen."""
        data = super().clean() or {}
        if self.has_error("amount"):
            return data
        try:
            data["amount_value"] = gift_amount(
                data["amount"], currency=self.currency, frequency=data.get("frequency")
            )
        except NotTakingGifts:
            self.add_error(None, "We are not taking changes online right now; please write to us.")
        except InvalidInput as error:
            self.add_error("amount", error.message)
        return data
