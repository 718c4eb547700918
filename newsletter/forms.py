"""The reader's sign-up form and staff's CSV import form."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from newsletter.services.subscribers import INVALID_EMAIL_MESSAGE, email_normalise
from newsroom.forms import HoneypotForm

MAX_SOURCE_LENGTH = 200


def local_path(raw: str) -> str:
    """The page path a sign-up came from, or "" when it is not a plain path on this site."""
    value = (raw or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in value):
        return ""
    return parts.path[:MAX_SOURCE_LENGTH]


class SignupForm(HoneypotForm):
    email = forms.CharField(
        label="Email address",
        max_length=320,
        error_messages={"required": "Please enter your email address."},
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "placeholder": "Your email address"}
        ),
    )
    consent = forms.BooleanField(
        label="I agree to the Privacy Policy",
        error_messages={"required": "Please agree to the Privacy Policy to sign up."},
    )
    source = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def clean_email(self) -> str:
        try:
            return email_normalise(self.cleaned_data.get("email", ""))
        except ValidationError as error:
            raise ValidationError(INVALID_EMAIL_MESSAGE, code="invalid") from error

    def clean_source(self) -> str:
        return local_path(self.cleaned_data.get("source", "")) or "/newsletter/"


class SubscriberImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="One address per row, in a column named “email” (or the first column).",
    )
    consent_source = forms.CharField(
        label="Consent source",
        max_length=120,
        help_text='Where these people agreed to receive the newsletter, e.g. "2026 print '
        "subscribers' sign-up form\". Stored with each imported subscriber.",
    )
