"""Thin views: a form, one service, a page or a redirect."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.decorators import ratelimit

from donations import stripe_client
from donations.banner import REMINDED_COOKIE
from donations.forms import EmailForm, SessionForm, SupportForm
from donations.services import checkout, manage, reminders
from donations.services.errors import DonationError

logger = logging.getLogger(__name__)

CLIENT_KEY = "newsroom.ratelimit.client_key"


def _rate(name: str, default: str) -> str:
    return str(getattr(settings, name, default))


def checkout_rate(group: str | None, request: HttpRequest) -> str:
    return _rate("DONATIONS_CHECKOUT_RATE", "10/m")


def email_rate(group: str | None, request: HttpRequest) -> str:
    return _rate("DONATIONS_EMAIL_RATE", "5/m")


def _limited(request: HttpRequest) -> HttpResponse:
    return render(request, "donations/rate_limited.html", status=429)


def _stripe_forms(response: HttpResponse) -> HttpResponse:
    """A page whose form POSTs to a view that redirects to Stripe's hosted pages: browsers check
    the page's `form-action` against every redirect of the submission, so allow their origins."""
    response._csp_update = {"form-action": stripe_client.hosted_page_origins()}  # type: ignore[attr-defined]
    return response


def _redirect_off_site(url: str) -> HttpResponse:
    """303 to Stripe's hosted page (Checkout or the Billing Portal)."""
    parts = urlsplit(url)
    response = HttpResponseRedirect(url, status=303)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def support(request: HttpRequest) -> HttpResponse:
    """The support page. A POST is the banner's "Update amounts" button (readers without
    JavaScript): the page again, with the presets for the frequency and currency they chose."""
    context: dict[str, object] = {"support_page": True}
    if request.method == "POST":
        context["support_choice"] = request.POST
    return _stripe_forms(render(request, "donations/support.html", context))


@require_POST
@ratelimit(key=CLIENT_KEY, rate=checkout_rate, method="POST", block=False, group="checkout")
def checkout_start(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request)
    form = SupportForm(request.POST)
    if not form.is_valid():
        context = {"support_page": True, "support_form": form}
        return _stripe_forms(render(request, "donations/support.html", context, status=400))
    data = form.cleaned_data
    try:
        session = checkout.donation_checkout_start(
            frequency=data["frequency"],
            amount=data["amount_value"],
            currency=data["currency"],
            source_page=data["source_page"],
            attempt=data["attempt"] or uuid.uuid4().hex,  # the banner sends one per page view
        )
    except stripe_client.StripeProblem as error:
        logger.warning("checkout failed", extra={"error": type(error).__name__})
        # A fresh key for the retry: Stripe replays a failed request's answer for its key.
        context = {"form": form, "retry_attempt": uuid.uuid4().hex}
        page = render(request, "donations/checkout_error.html", context, status=503)
        return _stripe_forms(page)
    return _redirect_off_site(session.url)


@require_safe
@ratelimit(key=CLIENT_KEY, rate="30/m", method=["GET", "HEAD"], block=False, group="thank-you")
def thank_you(request: HttpRequest) -> HttpResponse:
    """The lookup may ask Stripe; a client asking too often gets the page without details."""
    form = SessionForm(request.GET)
    gift = None
    if form.is_valid() and not getattr(request, "limited", False):
        gift = checkout.thank_you_lookup(session_id=form.cleaned_data["session_id"])
    return render(request, "donations/thank_you.html", {"gift": gift})


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key=CLIENT_KEY, rate=email_rate, method="POST", block=False, group="manage")
def manage_request(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request)
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        manage.manage_link_request(email=form.cleaned_data["email"])
        return render(request, "donations/manage_sent.html")
    status = 400 if request.method == "POST" else 200
    return render(request, "donations/manage.html", {"form": form}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key=CLIENT_KEY, rate=email_rate, method="POST", block=False, group="manage")
def manage_open(request: HttpRequest, token: str) -> HttpResponse:
    """GET (or HEAD) shows a button (mail scanners prefetch links); POST opens the Portal."""
    if getattr(request, "limited", False):
        return _limited(request)
    try:
        if request.method != "POST":
            manage.manage_token_read(token=token)
            return _stripe_forms(render(request, "donations/manage_open.html"))
        url = manage.manage_portal_open(token=token)
    except DonationError as error:
        context = {"form": EmailForm(), "problem": str(error)}
        return render(request, "donations/manage.html", context, status=400)
    except stripe_client.StripeProblem as error:
        logger.warning("billing portal failed", extra={"error": type(error).__name__})
        page = render(request, "donations/manage_open.html", {"unavailable": True}, status=503)
        return _stripe_forms(page)
    return _redirect_off_site(url)


@require_POST
@ratelimit(key=CLIENT_KEY, rate=email_rate, method="POST", block=False, group="remind")
def remind_me(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request)
    form = EmailForm(request.POST)
    if not form.is_valid():
        return render(request, "donations/remind_me.html", {"form": form}, status=400)
    reminders.reminder_create(email=form.cleaned_data["email"])
    response = render(request, "donations/remind_me.html", {"done": True})
    days = int(getattr(settings, "DONATIONS_BANNER_HIDE_DAYS", 14))
    response.set_cookie(
        REMINDED_COOKIE, "1", max_age=days * 86400, httponly=True, samesite="Lax",
        secure=request.is_secure(),
    )  # fmt: skip
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def reminder_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":  # GET or HEAD stops nothing
        return render(request, "donations/reminder_opt_out.html")
    try:
        reminders.reminder_opt_out(token=token)
    except DonationError as error:
        return render(
            request, "donations/reminder_opt_out.html", {"problem": str(error)}, status=400
        )
    return render(request, "donations/reminder_opt_out.html", {"done": True})
