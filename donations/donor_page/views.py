"""The donor's page and its actions, all under the emailed link `/support/manage/<token>/`.

Reading (the page, a receipt, a statement, the data download) changes nothing, so mail
scanners that prefetch the link do no harm. Every change is a POST in two steps (the choice,
then a confirmation showing what will happen), CSRF-protected, rate-limited per client; its
Stripe calls share the reader's budget (`@reader_waits`: a 503 page within it when Stripe is
down or slow).
A link that does not work shows why: an expired one offers to mail a fresh one to the donor's
own address; an invalid one shows the form that asks for a link by address.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from donations import documents, frequencies, stripe_client
from donations.donor_page import selectors
from donations.donor_page.forms import ConfirmForm, TermsForm, new_attempt
from donations.forms import EmailForm
from donations.links import manage_page_path
from donations.models import Donor, RecurringChange
from donations.services import gift_changes, manage
from donations.views import redirect_off_site
from newsroom.downloads import json_attachment
from newsroom.errors import ExpiredLink, InvalidLink
from newsroom.personal_data import personal_data_erase, personal_data_export
from newsroom.ratelimit import rate_limited

logger = logging.getLogger(__name__)

DONE_MESSAGES = {
    "terms": "Your gift is changed. We have emailed you a confirmation.",
    "pause": "Your gift is paused. We have emailed you a confirmation.",
    "resume": "Your gift is running again. We have emailed you a confirmation.",
    "cancel": "Your gift is cancelled. We have emailed you a confirmation.",
}
ACTIONS = {
    "change": RecurringChange.Kind.TERMS,
    "pause": RecurringChange.Kind.PAUSE,
    "resume": RecurringChange.Kind.RESUME,
    "cancel": RecurringChange.Kind.CANCEL,
}
DonorView = Callable[..., HttpResponse]


def _change_rate() -> str:
    return settings.DONATIONS_CHECKOUT_RATE


def _email_rate() -> str:
    return settings.DONATIONS_EMAIL_RATE


def link_problem(request: HttpRequest, error: InvalidLink, token: str) -> HttpResponse:
    if isinstance(error, ExpiredLink):
        context = {"message": error.message, "token": token, "form": EmailForm()}
        return render(request, "donations/donor/link_expired.html", context, status=400)
    context = {"form": EmailForm(), "problem": error.message}
    return render(request, "donations/manage.html", context, status=400)


def with_donor(view: DonorView) -> DonorView:
    """Resolve the link to its donor first, or answer with the link's problem."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
        try:
            donor = manage.manage_donor(token=token)
        except InvalidLink as error:
            return link_problem(request, error, token)
        return view(request, donor, token, **kwargs)

    return wrapper


@require_safe
@with_donor
def page(request: HttpRequest, donor: Donor, token: str) -> HttpResponse:
    context = {
        "token": token,
        "gifts": selectors.donor_gifts(donor),
        "changes": selectors.donor_changes(donor),
        "statements": documents.statement_periods(donor),
        "done": DONE_MESSAGES.get(request.GET.get("done", "")),
        "recurring_rows": frequencies.recurring(),
    }
    return render(request, "donations/donor/page.html", context)


@require_POST
@rate_limited("manage", rate=_email_rate)
def renew(request: HttpRequest, token: str) -> HttpResponse:
    """An expired link's "Email me a fresh link": to the address that link names."""
    try:
        manage.manage_link_renew(token=token)
    except InvalidLink as error:
        return link_problem(request, error, token)
    return render(request, "donations/manage_sent.html")


def _document(template: str, context: dict[str, Any], filename: str, as_pdf: bool) -> HttpResponse:
    if not as_pdf:
        return HttpResponse(documents.html(template, context))
    response = HttpResponse(documents.pdf(template, context), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@with_donor
def receipt(
    request: HttpRequest, donor: Donor, token: str, donation_id: int, as_pdf: bool = False
) -> HttpResponse:
    donation = selectors.donor_payment(donor, donation_id)
    if donation is None:
        raise Http404("No such receipt.")
    context = documents.receipt_context(donation)
    return _document("receipt", context, documents.receipt_filename(donation), as_pdf)


@require_safe
@with_donor
def statement(
    request: HttpRequest, donor: Donor, token: str, year: int, currency: str, as_pdf: bool = False
) -> HttpResponse:
    if (year, currency) not in documents.statement_periods(donor):
        raise Http404("No gifts in that year and currency.")
    found = documents.statement_for(donor=donor, year=year, currency=currency)
    context = documents.statement_context(donor=donor, statement=found)
    return _document("statement", context, documents.statement_filename(found), as_pdf)


def _perform(kind: str, recurring: Any, form: ConfirmForm) -> RecurringChange:
    attempt = form.cleaned_data["attempt"]
    if kind == RecurringChange.Kind.TERMS:
        assert isinstance(form, TermsForm)  # noqa: S101 - the view builds it for this kind
        return gift_changes.recurring_terms_change(
            recurring=recurring,
            amount=form.cleaned_data["amount_value"],
            frequency=form.cleaned_data["frequency"],
            attempt=attempt,
        )
    perform = {
        RecurringChange.Kind.PAUSE: gift_changes.recurring_pause,
        RecurringChange.Kind.RESUME: gift_changes.recurring_resume,
        RecurringChange.Kind.CANCEL: gift_changes.recurring_stop,
    }[RecurringChange.Kind(kind)]
    return perform(recurring=recurring, attempt=attempt)


@require_POST
@rate_limited("donor-change", rate=_change_rate)
@with_donor
@stripe_client.reader_waits
def gift_action(
    request: HttpRequest, donor: Donor, token: str, recurring_id: int, action: str
) -> HttpResponse:
    """Step one (no `confirm`): the summary to confirm. Step two: the change itself."""
    kind = ACTIONS.get(action)
    if kind is None:
        raise Http404("No such action.")
    recurring = gift_changes.recurring_of_donor(donor=donor, recurring_id=recurring_id)
    data = request.POST.copy()
    data.setdefault("attempt", new_attempt())
    form: ConfirmForm = (
        TermsForm(data, currency=recurring.currency)
        if kind == RecurringChange.Kind.TERMS
        else ConfirmForm(data)
    )
    context = {
        "token": token, "recurring": recurring, "kind": kind, "form": form,
        "recurring_rows": frequencies.recurring(),
    }  # fmt: skip
    if not form.is_valid():
        return render(request, "donations/donor/confirm.html", context, status=400)
    if not form.cleaned_data["confirm"]:
        context["new_row"] = frequencies.find(form.cleaned_data.get("frequency", ""))
        return render(request, "donations/donor/confirm.html", context)
    _perform(kind, recurring, form)
    return HttpResponseRedirect(f"{manage_page_path(token)}?done={kind}", status=303)


@require_POST
@rate_limited("donor-change", rate=_change_rate)
@with_donor
@stripe_client.reader_waits
def card(request: HttpRequest, donor: Donor, token: str, recurring_id: int) -> HttpResponse:
    """Update the card of one recurring gift: the Billing Portal of that gift's customer."""
    url = manage.manage_portal_open(donor=donor, recurring_id=recurring_id, token=token)
    return redirect_off_site(url)


@require_safe
@with_donor
def data_download(request: HttpRequest, donor: Donor, token: str) -> HttpResponse:
    data = personal_data_export(email=donor.email or "")
    return json_attachment(data, filename="my-data.json")


@require_POST
@rate_limited("donor-change", rate=_change_rate)
@with_donor
@stripe_client.reader_waits
def data_delete(request: HttpRequest, donor: Donor, token: str) -> HttpResponse:
    """Step one: what deleting does (and which gifts it cancels). Step two: delete."""
    form = ConfirmForm(request.POST)
    gifts = selectors.donor_gifts(donor)
    if not form.is_valid() or not form.cleaned_data["confirm"]:
        live = [gift for gift in gifts if gift.changeable]
        context = {"token": token, "live": live, "attempt": new_attempt()}
        return render(request, "donations/donor/delete_confirm.html", context)
    personal_data_erase(donor=donor)
    return render(request, "donations/donor/deleted.html")
