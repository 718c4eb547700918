from __future__ import annotations

from django import forms


class HoneypotForm(forms.Form):
    """A field people never see (hidden by CSS) and bots fill in; the form then refuses."""

    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self) -> str:
        value: str = self.cleaned_data.get("website", "")
        if value:
            raise forms.ValidationError("Please leave this field empty.")
        return value

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))
