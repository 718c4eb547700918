"""The reader's forms: checked for coming from our own pages, not for a CSRF token.

A CSRF token stops another site from making a visitor's browser act with the visitor's own
authority: a session, a login, a signed link. The forms under every article (start a
checkout, "Update amounts", remind me later, the newsletter sign-up) act on none: the reader
is anonymous, the views read no session and no login, and anyone can send the same POST from
a script. A token protects nothing there, and it cost every first visit to an article a new
secret, its masking and a `csrftoken` cookie: a third of the page's CPU, and the one cookie
a reader who never posts would otherwise get.

What remains worth refusing is another site's page making the reader's browser post one of
these forms (starting checkouts in their name, hiding our appeal with the reminder's cookie).
Browsers say where a POST comes from: `Origin` (current browsers send it on every POST) and
`Sec-Fetch-Site`. A POST whose `Origin` is present and not ours (the request's own scheme
and host, or one of `CSRF_TRUSTED_ORIGINS`, exactly), or whose `Sec-Fetch-Site` is
`cross-site`, gets a 403 page and reaches no view; one that sends neither (old browsers,
scripts, which could post anyway) is accepted.

Everything that acts on a session or a signed link (the admin, the donor page, confirm and
opt-out links, the donor-page request) keeps Django's CSRF check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from newsroom.error_responses import error_response
from newsroom.errors import CrossSiteRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

View = Callable[..., HttpResponse]


def _own_origin(request: HttpRequest, origin: str) -> bool:
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        host = request.get_host()
    except DisallowedHost:
        return False
    return origin == f"{'https' if request.is_secure() else 'http'}://{host}"


def is_cross_site(request: HttpRequest) -> bool:
    """A POST (or other unsafe method) a browser says came from another site."""
    if request.method in SAFE_METHODS:
        return False
    if request.META.get("HTTP_SEC_FETCH_SITE") == "cross-site":
        return True
    origin = request.META.get("HTTP_ORIGIN")
    return origin is not None and not _own_origin(request, origin)


def reader_form(view: View) -> View:
    """Exempt `view` from Django's CSRF check and refuse cross-site posts instead (see the
    module's docstring for which views may use it: none that acts on a session or link)."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_cross_site(request):
            return error_response(request, CrossSiteRequest(extra={"path": request.path}))
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)
