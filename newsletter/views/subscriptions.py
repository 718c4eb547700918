"""Sign up, confirm, leave. Thin: a form or a token, one service, a page."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from newsletter.forms import SignupForm
from newsletter.services.subscribers import (
    SubscriberError,
    subscriber_confirm,
    subscriber_signup,
    subscriber_unsubscribe,
)
from newsletter.tokens import confirm_link, unsubscribe_link
from newsroom.error_responses import error_response
from newsroom.errors import InvalidLink
from newsroom.ratelimit import rate_limited
from newsroom.same_origin import reader_form

ONE_CLICK_BODY = "One-Click"


def _invalid_link(request: HttpRequest, message: str) -> HttpResponse:
    return error_response(
        request,
        InvalidLink(message),
        context={
            "next_url": reverse("newsletter:signup"),
            "next_label": "Sign up for the newsletter",
        },
    )


@reader_form  # anonymous, like every form under an article: no CSRF token (see the module)
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("newsletter.signup", rate=lambda: settings.NEWSLETTER_SIGNUP_RATE)
def signup(request: HttpRequest) -> HttpResponse:
    """The sign-up page; the article box posts here too. One answer for every address."""
    if request.method != "POST":
        return render(request, "newsletter/signup.html", {"form": SignupForm()})
    form = SignupForm(request.POST)
    if form.is_bot:  # answer as if it worked; store and send nothing
        return render(request, "newsletter/signup_done.html")
    if not form.is_valid():
        return render(request, "newsletter/signup.html", {"form": form}, status=400)
    try:
        subscriber_signup(email=form.cleaned_data["email"], source=form.cleaned_data["source"])
    except ValidationError as error:
        form.add_error("email", error)
        return render(request, "newsletter/signup.html", {"form": form}, status=400)
    return render(request, "newsletter/signup_done.html")


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a one-button page (mail scanners prefetch links); POST confirms."""
    try:
        subscriber_id = confirm_link.read(token)
    except InvalidLink:
        return _invalid_link(
            request, "This confirmation link is not valid or has expired. Please sign up again."
        )
    if request.method != "POST":  # GET or HEAD: uptime monitors and link checkers confirm nothing
        return render(request, "newsletter/confirm.html")
    try:
        subscriber_confirm(subscriber_id=subscriber_id)
    except SubscriberError as error:
        return _invalid_link(request, str(error))
    return render(request, "newsletter/confirmed.html")


@csrf_exempt  # RFC 8058 one-click POSTs carry no cookie and no CSRF token: the token is the key
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a one-button page and changes nothing; any POST with a valid token unsubscribes."""
    try:
        subscriber_id = unsubscribe_link.read(token)
    except InvalidLink:
        return _invalid_link(request, "This unsubscribe link is not valid.")
    if request.method != "POST":  # GET or HEAD changes nothing
        return render(request, "newsletter/unsubscribe.html")
    subscriber_unsubscribe(subscriber_id=subscriber_id)
    one_click = request.POST.get("List-Unsubscribe") == ONE_CLICK_BODY
    if one_click:
        return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
    return render(request, "newsletter/unsubscribed.html")
