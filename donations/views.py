"""Thin views: a form, one service, a page or a redirect."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from donations import frequencies, stripe_client
from donations.appeals.currency import CURRENCY_COOKIE
from donations.banner import GIVEN_COOKIE, REMINDED_COOKIE
from donations.forms import EmailForm, SessionForm, SupportForm
from donations.models import Currency
from donations.services import checkout, manage, reminders
from newsroom.error_responses import error_response
from newsroom.ratelimit import limited, rate_limited
from newsroom.same_origin import reader_form

THANK_YOU_RATE = "30/m"  # lookups that may ask Stripe, per client
CHECKOUT_ERROR = "donations/checkout_error.html"


def _checkout_rate() -> str:
    return settings.DONATIONS_CHECKOUT_RATE


def _email_rate() -> str:
    return settings.DONATIONS_EMAIL_RATE


def _stripe_forms(response: HttpResponse) -> HttpResponse:
    """A page whose form POSTs to a view that redirects to Stripe's hosted pages: browsers check
    the page's `form-action` against every redirect of the submission, so allow their origins."""
    response._csp_update = {"form-action": stripe_client.hosted_page_origins()}  # type: ignore[attr-defined]
    return response


def redirect_off_site(url: str) -> HttpResponse:
    """303 to Stripe's hosted page (Checkout or the Billing Portal)."""
    parts = urlsplit(url)
    response = HttpResponseRedirect(url, status=303)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


@reader_form  # anonymous, like every form under an article: no CSRF token (see the module)
@require_http_methods(["GET", "HEAD", "POST"])
def support(request: HttpRequest) -> HttpResponse:
    """The support page. A POST is the banner's "Update amounts" button (readers without
    JavaScript): the page again, with the presets for the frequency and currency they chose."""
    context: dict[str, object] = {"support_page": True}
    if request.method == "POST":
        context["support_choice"] = request.POST
    response = _stripe_forms(render(request, "donations/support.html", context))
    if request.method == "POST" and request.POST.get("currency") in Currency.values:
        _remember(request, response, CURRENCY_COOKIE, request.POST["currency"], days=365)
    return response


@reader_form
@require_POST
@rate_limited("checkout", rate=_checkout_rate)
@stripe_client.reader_waits
def checkout_start(request: HttpRequest) -> HttpResponse:
    """Continue: off to Stripe's Checkout, or (Stripe down or slow past the reader's budget)
    the 503 page with a Try again button that posts the same choices."""
    form = SupportForm(request.POST)
    if not form.is_valid():
        context = {"support_page": True, "support_form": form}
        return _stripe_forms(render(request, "donations/support.html", context, status=400))
    data = form.cleaned_data
    try:
        checkout_url = checkout.donation_checkout_start(
            frequency=data["frequency"],
            amount=data["amount_value"],
            currency=data["currency"],
            source_page=data["source_page"],
            attempt=data["attempt"] or uuid.uuid4().hex,  # the banner sends one per page view
            variant_id=data["variant"],
        )
    except stripe_client.StripeUnavailable as error:
        # A fresh key for the retry: Stripe replays a failed request's answer for its key.
        context = {
            "form": form, "retry_attempt": uuid.uuid4().hex,
            "gift_words": frequencies.get(data["frequency"]).gift_words,
        }  # fmt: skip
        page = error_response(request, error, template=CHECKOUT_ERROR, context=context)
        return _stripe_forms(page)
    response = redirect_off_site(checkout_url)
    _remember(request, response, CURRENCY_COOKIE, data["currency"], days=365)
    return response


def _remember(
    request: HttpRequest, response: HttpResponse, name: str, value: str, *, days: int
) -> None:
    """A first-party cookie holding one word (a currency code, a flag), nothing personal."""
    response.set_cookie(
        name, value, max_age=days * 86400, samesite="Lax", secure=request.is_secure(),
        httponly=name != CURRENCY_COOKIE,  # the banner's script sets the currency too
    )  # fmt: skip


@require_safe
@stripe_client.reader_waits
def thank_you(request: HttpRequest) -> HttpResponse:
    """The lookup may ask Stripe; a client asking too often gets the page without details.
    A completed monthly or annual gift hides the banner in this browser from now on."""
    form = SessionForm(request.GET)
    gift = None
    if form.is_valid() and not limited(request, group="thank-you", rate=THANK_YOU_RATE):
        gift = checkout.thank_you_lookup(session_id=form.cleaned_data["session_id"])
    response = render(request, "donations/thank_you.html", {"gift": gift})
    if gift is not None and gift.paid and gift.recurring:
        _remember(request, response, GIVEN_COOKIE, "1", days=settings.DONATIONS_GIVEN_HIDE_DAYS)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("manage", rate=_email_rate)
def manage_request(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        manage.manage_link_request(email=form.cleaned_data["email"])
        return render(request, "donations/manage_sent.html")
    status = 400 if request.method == "POST" else 200
    return render(request, "donations/manage.html", {"form": form}, status=status)


@reader_form
@require_POST
@rate_limited("remind", rate=_email_rate)
def remind_me(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        return render(request, "donations/remind_me.html", {"form": form}, status=400)
    reminders.reminder_create(email=form.cleaned_data["email"])
    response = render(request, "donations/remind_me.html", {"done": True})
    _remember(request, response, REMINDED_COOKIE, "1", days=settings.DONATIONS_BANNER_HIDE_DAYS)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def reminder_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """GET (or HEAD) checks the link and shows a button; POST stops the reminder. A link that
    does not work gets the invalid-link page (`InvalidLink`), never the button or a success
    page."""
    if request.method != "POST":
        reminders.reminder_for_link(token=token)
        return render(request, "donations/reminder_opt_out.html")
    reminders.reminder_opt_out(token=token)
    return render(request, "donations/reminder_opt_out.html", {"done": True})
