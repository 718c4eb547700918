"""What the support banner shows: the reader's choice (or the defaults), the preset amounts for
it, and every preset for the small script that swaps them without a round trip. Without
JavaScript, the banner's "Update amounts" button posts the choice back to the support page,
which renders the presets for it (`choice`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from donations import frequencies
from donations.forms import SupportForm, minimum, money
from donations.models import CURRENCY_SYMBOLS, Currency
from donations.selectors import amount_presets

REMINDED_COOKIE = "support_reminder"


def _chosen_amount(data: Mapping[str, Any], options: list[dict[str, Any]]) -> str:
    """The preset to show selected: none when the reader typed their own amount (so an error
    about it does not also highlight a preset), theirs when it is on offer, else the default."""
    if (data.get("custom_amount") or "").strip():
        return ""
    amounts = [o["amount"] for o in options]
    if data.get("amount") in amounts:
        return str(data["amount"])
    return next((o["amount"] for o in options if o["default"]), "")


def _first_invalid(errors: Mapping[str, Any]) -> str:
    """The control to focus and mark invalid: the first one an error is about (an error about
    none, such as the honeypot's, is shown next to the amount the reader typed)."""
    about = [f for f in ("frequency", "custom_amount", "currency") if f in errors]
    return about[0] if about else ("custom_amount" if errors else "")


def banner_context(
    request: HttpRequest | None,
    form: SupportForm | None = None,
    choice: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    presets = amount_presets()
    data: Mapping[str, Any] = form.data if form is not None else (choice or {})
    preselected = frequencies.preselected()
    frequency = data.get("frequency") or preselected.value
    currency = data.get("currency") or Currency.USD
    if frequencies.find(frequency) is None:
        frequency = preselected.value
    if currency not in Currency.values:
        currency = Currency.USD
    options = presets.get(frequency, {}).get(currency, [])
    chosen = _chosen_amount(data, options)
    symbol = CURRENCY_SYMBOLS[Currency(currency)]
    errors = form.errors if form is not None else {}
    return {
        "form": form,
        "errors": [e for field_errors in errors.values() for e in field_errors],
        "invalid": _first_invalid(errors),
        "frequencies": frequencies.choices(),
        "currencies": Currency.choices,
        "frequency": frequency,
        "currency": currency,
        "symbol": symbol,
        "options": [{**o, "checked": o["amount"] == chosen} for o in options],
        "custom_amount": data.get("custom_amount", ""),
        "presets": presets,
        "symbols": {str(c): s for c, s in CURRENCY_SYMBOLS.items()},
        "preselected_adverb": preselected.adverb,
        "preselected_minimum": money(minimum(preselected.value), Currency.USD),
        "attempt": data.get("attempt") or uuid.uuid4().hex,
        "source_page": data.get("source_page") or (request.path if request else "/"),
        "reminded": bool(request and request.COOKIES.get(REMINDED_COOKIE)),
    }
