"""Sets the `support_variant` cookie when the banner drew a variant for this browser."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from donations.appeals.assignment import VARIANT_COOKIE

ASSIGNED_ATTRIBUTE = "_support_variant_drawn"
COOKIE_DAYS = 90


class VariantCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        variant = getattr(request, ASSIGNED_ATTRIBUTE, None)
        if variant is not None:
            response.set_cookie(
                VARIANT_COOKIE, str(variant), max_age=COOKIE_DAYS * 86400, httponly=True,
                samesite="Lax", secure=request.is_secure(),
            )  # fmt: skip
        return response
