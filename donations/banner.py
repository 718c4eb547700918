"""What the support banner shows: the live appeal (or the browser's variant of it in a running
experiment), in the reader's currency, with the preset amounts for the reader's choice (or the
defaults) and every preset for the small script that swaps them without a round trip. Without
JavaScript, the banner's "Update amounts" button posts the choice back to the support page,
which renders the presets for it (`choice`).

Who sees it: nobody while staff switched it off; not a browser that completed a recurring
gift (`support_given`, set on the thank-you page) nor, for a while, one that asked to be
reminded later (`support_reminder`). The /support/ page always shows the form.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

from donations import frequencies
from donations.amounts import money
from donations.appeals.assignment import live_appeal_for
from donations.appeals.config import HEADLINE_FREQUENCY, Arm, LiveAppeal, headline_text, live_appeal
from donations.appeals.currency import reader_currency
from donations.appeals.middleware import ASSIGNED_ATTRIBUTE
from donations.forms import SupportForm
from donations.models import CURRENCY_SYMBOLS, Currency
from newsroom.fragments import FragmentCache, render_fragment

REMINDED_COOKIE = "support_reminder"
GIVEN_COOKIE = "support_given"
BANNER_TEMPLATE = "donations/_support_banner.html"
PAGE_VIEW_SLOTS = ("attempt", "source_page")
_fragments = FragmentCache()  # generation: the live appeal's snapshot
_states = FragmentCache()  # hidden, reminded, off: one generation


def _headlines(live: LiveAppeal, headline: str) -> dict[str, str]:
    """The headline per currency, its amount the monthly minimum in that currency."""
    found = {}
    for currency in Currency.values:
        limit = live.limit(currency, HEADLINE_FREQUENCY)
        if limit is not None:
            found[currency] = headline_text(headline, money(limit[0], currency))
    return found


def _hidden_by_cookie(request: HttpRequest | None, standalone: bool) -> str:
    if standalone or request is None:
        return ""
    if request.COOKIES.get(GIVEN_COOKIE):
        return "given"
    if request.COOKIES.get(REMINDED_COOKIE):
        return "reminded"
    return ""


def _live(
    request: HttpRequest | None, page_view: bool
) -> tuple[LiveAppeal | None, Arm | None, bool]:
    """The live appeal and this browser's variant; a page view (not a re-rendered form or an
    "Update amounts") counts an impression for the variant."""
    if request is None:
        return live_appeal(), None, False
    return live_appeal_for(request, count=page_view and request.method == "GET")


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


def _shown(
    live: LiveAppeal,
    arm: Arm | None,
    data: Mapping[str, Any],
    currency: str,
    form: SupportForm | None,
) -> dict[str, Any]:
    """The banner's context for the appeal (or the arm), the reader's choice in `data` and
    their currency; everything but the per-request `attempt` and `source_page`."""
    copy = arm.copy if arm is not None else live.copy
    presets = arm.options if arm is not None else live.options
    frequency = data.get("frequency") or copy.default_frequency
    if frequencies.find(frequency) is None:
        frequency = copy.default_frequency
    if currency not in Currency.values:
        currency = Currency.USD
    options = presets.get(frequency, {}).get(currency, [])
    chosen = _chosen_amount(data, options)
    headlines = _headlines(live, copy.headline)
    errors = form.errors if form is not None else {}
    return {
        "hidden": "",
        "copy": copy,
        "headline": headlines.get(currency, ""),
        "headlines": headlines,
        "variant_id": arm.id if arm is not None else "",
        "form": form,
        "errors": [e for field_errors in errors.values() for e in field_errors],
        "invalid": _first_invalid(errors),
        "frequencies": frequencies.choices(),
        "currencies": Currency.choices,
        "frequency": frequency,
        "currency": currency,
        "symbol": CURRENCY_SYMBOLS[Currency(currency)],
        "options": [{**o, "checked": o["amount"] == chosen} for o in options],
        "custom_amount": data.get("custom_amount", ""),
        "presets": presets,
        "symbols": {str(c): s for c, s in CURRENCY_SYMBOLS.items()},
        "reminded": False,
    }


def banner_context(
    request: HttpRequest | None,
    form: SupportForm | None = None,
    choice: Mapping[str, Any] | None = None,
    *,
    standalone: bool = False,
) -> dict[str, Any]:
    hidden = _hidden_by_cookie(request, standalone)
    if hidden:
        return {"hidden": hidden, "reminded": hidden == "reminded"}
    live, arm, drawn = _live(request, page_view=form is None and choice is None)
    if live is None or not (live.show_banner or standalone):
        return {"hidden": "closed" if live is None else "off", "reminded": False}
    if arm is not None and drawn and request is not None:
        setattr(request, ASSIGNED_ATTRIBUTE, arm.id)
    data: Mapping[str, Any] = form.data if form is not None else (choice or {})
    currency = data.get("currency") or (reader_currency(request) if request else "")
    return {
        **_shown(live, arm, data, currency, form),
        "attempt": data.get("attempt") or uuid.uuid4().hex,
        "source_page": data.get("source_page") or (request.path if request else "/"),
    }


def page_view_banner(request: HttpRequest, extra: Mapping[str, Any]) -> SafeString:
    """The banner under an article (no form posted, not the /support/ page), as
    `banner_context` + the template would render it, from a fragment rendered once per
    appeal snapshot, variant and currency (see `newsroom.fragments`): per view only a fresh
    `attempt` and the page's path are filled in (its forms carry no CSRF token:
    `newsroom.same_origin`). `extra` is the rest of the template's context (the form
    targets)."""
    hidden = _hidden_by_cookie(request, standalone=False)
    if hidden:
        return _fixed_state({"hidden": hidden, "reminded": hidden == "reminded"}, extra)
    live, arm, drawn = live_appeal_for(request, count=request.method == "GET")
    if live is None or not live.show_banner:
        return _fixed_state({"hidden": "closed" if live is None else "off"}, extra)
    if arm is not None and drawn:
        setattr(request, ASSIGNED_ATTRIBUTE, arm.id)
    currency = reader_currency(request)
    key = (arm.id if arm is not None else None, currency)
    fragment = _fragments.get(live, key, lambda: render_fragment(
        BANNER_TEMPLATE, {**extra, **_shown(live, arm, {}, currency, None)}, PAGE_VIEW_SLOTS
    ))  # fmt: skip
    # 32 random hex digits, as `uuid.uuid4().hex` (below) makes them, for less than half its CPU
    attempt = secrets.token_hex(16)
    return fragment.fill({"attempt": attempt, "source_page": request.path})


def _fixed_state(context: dict[str, Any], extra: Mapping[str, Any]) -> SafeString:
    """The banner hidden, reminded or switched off: the same for every reader."""
    fragment = _states.get(None, context["hidden"], lambda: render_fragment(
        BANNER_TEMPLATE, {**extra, "reminded": False, **context}, ()
    ))  # fmt: skip
    return fragment.fill({})
