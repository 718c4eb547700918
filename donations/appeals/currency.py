"""The reader's currency, worked out from the request alone; nothing about the reader is kept.

In order: the reader's own switch (the `support_currency` cookie), the country the proxy or
CDN names in `COUNTRY_HEADER` (e.g. Cloudflare's `CF-IPCountry`) when one is configured, the
region of the most preferred `Accept-Language` tag (en-US -> USD, en-GB -> GBP, de-DE ->
EUR), else `DONATIONS_DEFAULT_CURRENCY`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

from donations.models import Currency

CURRENCY_COOKIE = "support_currency"
CURRENCIES = frozenset(Currency.values)  # `Currency.values` builds a new list on every call

EURO_AREA = frozenset(
    ["AT", "BE", "BG", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT",
     "LU", "LV", "MT", "NL", "PT", "SI", "SK",  # members
     "AD", "MC", "SM", "VA", "ME", "XK"]  # use the euro by agreement or in practice
)  # fmt: skip
COUNTRY_CURRENCY: dict[str, str] = {
    "US": Currency.USD, "PR": Currency.USD, "GU": Currency.USD, "VI": Currency.USD,
    "EC": Currency.USD, "SV": Currency.USD, "PA": Currency.USD, "TL": Currency.USD,
    "GB": Currency.GBP, "GG": Currency.GBP, "JE": Currency.GBP, "IM": Currency.GBP,
    **dict.fromkeys(EURO_AREA, Currency.EUR),
}  # fmt: skip
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_REGION = re.compile(r"^(?:[A-Za-z]{2}|\d{3})$")


def currency_for_country(code: str) -> str | None:
    return COUNTRY_CURRENCY.get(code.strip().upper()[:2]) if code else None


def preferred_language(header: str) -> str:
    """The tag with the highest q in an Accept-Language header (the first of equals)."""
    best, best_q = "", 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not _TAG.match(tag):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = tag, q
    return best


def region_of(tag: str) -> str:
    """`en-GB` -> `GB`, `zh-Hant-TW` -> `TW`, `de` -> ``."""
    for subtag in tag.split("-")[1:]:
        if _REGION.match(subtag) and not subtag.isdigit():
            return subtag.upper()
    return ""


def _meta_key(header: str) -> str:
    """`CF-IPCountry` -> `HTTP_CF_IPCOUNTRY`, where WSGI puts a request header."""
    return "HTTP_" + header.upper().replace("-", "_")


@lru_cache(maxsize=512)
def _language_currency(header: str) -> str | None:
    """The currency of an `Accept-Language` header's preferred region (few distinct headers
    reach a site, so each is parsed once)."""
    return currency_for_country(region_of(preferred_language(header)))


def reader_currency(request: HttpRequest) -> str:
    """Read from `request.META` directly: `request.headers` copies every header into a new
    mapping, a tenth of the article page's view, for the one or two read here."""
    chosen = request.COOKIES.get(CURRENCY_COOKIE, "")
    if chosen in CURRENCIES:
        return chosen
    header: str = settings.COUNTRY_HEADER
    if header:
        found = currency_for_country(request.META.get(_meta_key(header), ""))
        if found:
            return found
    found = _language_currency(request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:500])
    return found or settings.DONATIONS_DEFAULT_CURRENCY
