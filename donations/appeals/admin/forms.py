"""Admin forms: the headline keeps its `{minimum}` and the letter is stored sanitised."""

from __future__ import annotations

from django import forms

from donations.appeals.letter import clean_letter
from donations.appeals.models import Appeal, Variant
from donations.appeals.models.appeal import MINIMUM_PLACEHOLDER


def check_headline(headline: str, *, required: bool) -> str:
    if not headline and not required:
        return headline
    if headline.count(MINIMUM_PLACEHOLDER) != 1:
        raise forms.ValidationError(
            "Write {minimum} once where the amount goes; it becomes the monthly minimum in "
            "the reader's currency (e.g. $2, €2, £2)."
        )
    if headline.replace(MINIMUM_PLACEHOLDER, "").count("{") or "}" in headline.replace(
        MINIMUM_PLACEHOLDER, ""
    ):
        raise forms.ValidationError("Only {minimum} may be written in braces.")
    return headline


class AppealForm(forms.ModelForm):
    class Meta:
        model = Appeal
        fields = (
            "name", "show_banner", "heading", "letter", "sign_off", "headline",
            "default_frequency",
        )  # fmt: skip

    def clean_headline(self) -> str:
        return check_headline(self.cleaned_data["headline"], required=True)

    def clean_letter(self) -> str:
        return clean_letter(self.cleaned_data["letter"])


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = (
            "name", "weight", "heading", "letter", "sign_off", "headline", "default_frequency",
        )  # fmt: skip

    def clean_headline(self) -> str:
        return check_headline(self.cleaned_data.get("headline", ""), required=False)

    def clean_letter(self) -> str:
        letter = self.cleaned_data.get("letter", "")
        return clean_letter(letter) if letter else ""
