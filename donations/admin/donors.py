"""Donors in the admin: their gifts, their data (JSON), erasing them, and sending a yearly
statement. Every change goes through a service; the admin only parses and presents."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString

from donations import documents, stripe_client
from donations.admin.gifts import DonationInline, RecurringInline
from donations.admin.links import stripe_link
from donations.models import Donor, Reminder
from donations.services.emails import send_statement
from newsroom.downloads import json_attachment
from newsroom.erased import ERASED_MESSAGE, address_is_erased
from newsroom.personal_data import personal_data_erase, personal_data_export


def _not_erased(email: str | None) -> str | None:
    """Staff may not type back an address erased at its owner's request."""
    if email and address_is_erased(email):
        raise forms.ValidationError(ERASED_MESSAGE)
    return email


class DonorForm(forms.ModelForm):
    class Meta:
        model = Donor
        fields = ("email", "name")

    def clean_email(self) -> str | None:
        email: str | None = self.cleaned_data.get("email")
        if email and email != (self.instance.email if self.instance.pk else None):
            return _not_erased(email.strip().lower())
        return email


class ReminderForm(forms.ModelForm):
    class Meta:
        model = Reminder
        fields = ("email", "due_at")

    def clean_email(self) -> str:
        email: str = self.cleaned_data.get("email") or ""
        if email and email != self.instance.email:
            _not_erased(email.strip().lower())
        return email


class StatementForm(forms.Form):
    period = forms.ChoiceField(label="Year and currency")

    def __init__(self, *args: Any, periods: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(f"{y}-{c}", f"{y} · {c.upper()}") for y, c in periods]


@admin.register(Donor)
class DonorAdmin(admin.ModelAdmin):
    form = DonorForm
    list_display = ("__str__", "email", "name", "created_at", "erased_at")
    list_filter = ("erased_at",)
    search_fields = ("email", "name")
    date_hierarchy = "created_at"
    readonly_fields = ("customer_link", "erased_at", "created_at", "updated_at")
    inlines = (RecurringInline, DonationInline)
    change_form_template = "admin/donations/donor/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # donors come from Stripe

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # erasing goes through the erase page (Stripe first, payments kept)

    @admin.display(description="Stripe customer")
    def customer_link(self, donor: Donor) -> SafeString | str:
        return stripe_link(donor.stripe_customer_id)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/data/", view(self.data_view), name="donations_donor_data"),
            path("<int:pk>/erase/", view(self.erase_view), name="donations_donor_erase"),
            path(
                "<int:pk>/statement/", view(self.statement_view), name="donations_donor_statement"
            ),
            *super().get_urls(),
        ]

    def _require(self, request: HttpRequest, action: str) -> None:
        if not request.user.has_perm(f"donations.{action}_donor"):
            raise PermissionDenied

    def _page(self, request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
        base = {**self.admin_site.each_context(request), "opts": self.model._meta}
        return TemplateResponse(request, f"admin/donations/donor/{template}", {**base, **context})

    def data_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "view")
        donor = get_object_or_404(Donor, pk=pk, email__isnull=False)
        data = personal_data_export(email=donor.email or "")
        return json_attachment(data, filename=f"donor-{pk}.json")

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "change")
        donor = get_object_or_404(Donor, pk=pk)
        if request.method == "POST":
            try:
                personal_data_erase(donor=donor)
            except stripe_client.StripeProblem:
                self.message_user(
                    request, "Stripe did not answer; nothing was erased. Try again.", messages.ERROR
                )
            else:
                self.message_user(request, f"Donor #{pk} was erased.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:donations_donor_change", args=[pk]))
        live = donor.recurring.exclude(status="cancelled")
        return self._page(request, "erase.html", donor=donor, live=live, title="Erase this donor?")

    def statement_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "view")
        donor = get_object_or_404(Donor, pk=pk, email__isnull=False)
        form = StatementForm(request.POST or None, periods=documents.statement_periods(donor))
        if request.method == "POST" and form.is_valid():
            year, currency = form.cleaned_data["period"].split("-")
            send_statement.delay_on_commit(pk, int(year), currency)
            self.message_user(
                request, f"The {year} {currency.upper()} statement is on its way.", messages.SUCCESS
            )
            return HttpResponseRedirect(reverse("admin:donations_donor_change", args=[pk]))
        return self._page(
            request, "statement.html", donor=donor, form=form, title="Send a statement"
        )
