"""Sets the `support_variant` cookie when the banner drew a variant for this browser."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.cookies import Morsel

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

from donations.appeals.assignment import VARIANT_COOKIE

ASSIGNED_ATTRIBUTE = "_support_variant_drawn"
COOKIE_DAYS = 90
MAX_AGE = COOKIE_DAYS * 86400
_cookies: dict[tuple[int, bool, int], Morsel[str]] = {}  # (variant, secure, second) -> cookie


def variant_cookie(variant: int, secure: bool) -> Morsel[str]:
    """The cookie exactly as `response.set_cookie(VARIANT_COOKIE, ...)` makes it this second,
    built once a second per variant and copied: with every first visit drawing a variant,
    formatting its date and checking its attributes was a third of what an experiment cost
    the article page. (A copy: `set_cookie` on the same name changes a cookie in place.)"""
    second = int(time.time())
    key = (variant, secure, second)
    found = _cookies.get(key)
    if found is None:
        maker = HttpResponse()
        maker.set_cookie(
            VARIANT_COOKIE, str(variant), max_age=MAX_AGE, expires=http_date(second + MAX_AGE),
            httponly=True, samesite="Lax", secure=secure,
        )  # fmt: skip
        found = maker.cookies[VARIANT_COOKIE]
        if len(_cookies) >= 64:  # the seconds gone by
            _cookies.clear()
        _cookies[key] = found
    return _copy(found)


def _copy(morsel: Morsel[str]) -> Morsel[str]:
    """`morsel.copy()` without `Morsel.__init__`, which sets every attribute to "" first only
    for them all to be overwritten here."""
    copied: Morsel[str] = Morsel.__new__(Morsel)
    dict.update(copied, morsel)
    copied.__dict__.update(morsel.__dict__)
    return copied


class VariantCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        variant = getattr(request, ASSIGNED_ATTRIBUTE, None)
        if variant is not None:
            response.cookies[VARIANT_COOKIE] = variant_cookie(variant, request.is_secure())
        return response
