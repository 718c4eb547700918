"""Domain errors to responses, in one place, and the headers every page reached by a token gets.

`ApplicationErrorMiddleware` turns an `ApplicationError` a view let through into a page (or
JSON, for views marked `@json_errors` and callers whose `Accept` prefers JSON): its status,
its message, `Retry-After` for errors that pass, and for a POST that failed for now a *Try
again* form with the same fields. `TokenPageMiddleware` marks every response of a URL that
carries a `<token>` (confirm, unsubscribe, manage, reminder stop, draft preview, ...)
`no-store` and `Referrer-Policy: strict-origin`: a request from the page (a link followed, a
stylesheet, a form posted) names at most the site, never the path with its token, so neither
a shared cache, another site nor a proxy's access log (which records `Referer`) keeps it. (Not
`no-referrer`: with it browsers send `Origin: null` on the page's own form POSTs, and Django's
CSRF check rightly refuses them; with `strict-origin` the page's POSTs carry their real
`Origin`.)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from newsroom.errors import ApplicationError, InvalidLink, RateLimited, TransientError

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrfmiddlewaretoken"  # the page's own form gets a fresh one

View = TypeVar("View", bound=Callable[..., HttpResponse])

# The first class in an error's MRO found here names its page.
TEMPLATES: dict[type[ApplicationError], str] = {
    InvalidLink: "errors/invalid_link.html",
    RateLimited: "errors/rate_limited.html",
    TransientError: "errors/unavailable.html",
    ApplicationError: "errors/error.html",
}


def json_errors(view: View) -> View:
    """Mark a view whose callers are machines (webhooks): its errors are answered as JSON."""
    view.json_errors = True  # type: ignore[attr-defined]
    return view


def _template(error: ApplicationError) -> str:
    return next(TEMPLATES[kind] for kind in type(error).__mro__ if kind in TEMPLATES)


def _wants_json(request: HttpRequest) -> bool:
    """A view marked `@json_errors`, or a caller whose `Accept` prefers JSON to HTML."""
    match = request.resolver_match
    if match is not None and getattr(match.func, "json_errors", False):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _retry_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """A form that failed for now, as hidden fields for the page's *Try again*: one click
    sends the same choices again. Its `attempt` nonce (the seed of a Stripe idempotency key)
    is renewed, since Stripe replays a failed request's answer for its key."""
    names = [name for name in request.POST if name != CSRF_FIELD]
    return [(name, uuid.uuid4().hex if name == "attempt" else request.POST[name]) for name in names]


def error_response(
    request: HttpRequest,
    error: ApplicationError,
    *,
    context: dict[str, object] | None = None,
    template: str | None = None,
) -> HttpResponse:
    """The response for a domain error: its page (`template`, else its kind's) or JSON, its
    status and retry hint."""
    logger.info(
        "application error answered",
        extra={"error": type(error).__name__, "status": error.status, **error.extra},
    )
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"error": error.message}, status=error.status)
    else:
        page = {"message": error.message, "error": error, **(context or {})}
        if isinstance(error, TransientError) and request.method == "POST":
            page.setdefault("retry_fields", _retry_fields(request))
        response = render(request, template or _template(error), page, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ApplicationError):
            return error_response(request, exception)
        return None


class TokenPageMiddleware:
    """Pages reached through a signed link are private to whoever holds the link."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and "token" in match.kwargs:
            add_never_cache_headers(response)
            response["Referrer-Policy"] = "strict-origin"
        return response
