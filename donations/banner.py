"""What the support banner shows: the reader's choice (or the defaults), the preset amounts for
it, and every preset for the small script that swaps them without a round trip."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest

from donations import frequencies
from donations.forms import SupportForm, minimum, money
from donations.models import CURRENCY_SYMBOLS, Currency
from donations.selectors import amount_presets

REMINDED_COOKIE = "support_reminder"


def banner_context(request: HttpRequest | None, form: SupportForm | None = None) -> dict[str, Any]:
    presets = amount_presets()
    data = form.data if form is not None else {}
    preselected = frequencies.preselected()
    frequency = data.get("frequency") or preselected.value
    currency = data.get("currency") or Currency.USD
    if frequencies.find(frequency) is None:
        frequency = preselected.value
    if currency not in Currency.values:
        currency = Currency.USD
    options = presets.get(frequency, {}).get(currency, [])
    chosen = data.get("amount") or next((o["amount"] for o in options if o["default"]), "")
    symbol = CURRENCY_SYMBOLS[Currency(currency)]
    return {
        "form": form,
        "errors": [e for errors in form.errors.values() for e in errors] if form else [],
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
