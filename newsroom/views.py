from __future__ import annotations

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from newsroom import context_processors, health
from newsroom.fragments import shell_page


@require_safe
def article(request: HttpRequest) -> HttpResponse:
    """The demo article: what a news site's story page looks like with both includes. Its
    own text is the same for every reader, so it is rendered once per process and each view
    renders only the banner and the newsletter box (`newsroom.fragments.shell_page`)."""
    return shell_page(request, "pages/article.html", context_processors.site(request))


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """The policy states the retention the beat task enforces, from the same settings."""
    retention = {
        "names": settings.DONATIONS_NAME_RETENTION_DAYS,
        "source_pages": settings.DONATIONS_SOURCE_PAGE_RETENTION_DAYS,
        "reminders": settings.DONATIONS_REMINDER_RETENTION_DAYS,
    }
    return render(request, "pages/privacy.html", {"retention": retention})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": health.database_ok(), "broker": health.broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that link no icon (the admin's): the site's."""
    return HttpResponsePermanentRedirect(static("newsroom/favicon.svg"))


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, from settings alone: whatever failed (the database, a context processor,
    the request itself) cannot fail this page too."""
    return HttpResponseServerError(render_to_string("500.html", {"SITE_NAME": settings.SITE_NAME}))
