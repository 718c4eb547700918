"""Staff-only pages in the admin: the figures page and the CSV export of payments."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from donations.figures import chart, figures
from donations.models import Dispute, Donation

CSV_COLUMNS = (
    "paid_at", "amount", "currency", "frequency", "status", "amount_refunded",
    "amount_disputed", "amount_lost_in_disputes", "donor_id", "recurring_id",
    "stripe_payment_intent_id", "stripe_invoice_id",
)  # fmt: skip


def _disputes_total(outcome: str) -> Coalesce:
    """The payment's disputes with this outcome, summed (0 without any)."""
    total = (
        Dispute.objects.filter(donation=OuterRef("pk"), outcome=outcome)
        .values("donation")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(total, output_field=money), Value(Decimal("0.00")), output_field=money)


class ExportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date must be on or before the end date.")
        return data


def figures_view(request: HttpRequest) -> HttpResponse:
    found = figures()
    context = {
        **admin.site.each_context(request),
        "title": "Donation figures",
        "figures": found,
        "chart": chart(found.weeks),
    }
    return render(request, "admin/donations/figures.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(start: datetime, end: datetime) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    payments = (
        Donation.objects.filter(paid_at__gte=start, paid_at__lt=end)
        .annotate(
            amount_disputed=_disputes_total(Dispute.Outcome.OPEN),
            amount_lost_in_disputes=_disputes_total(Dispute.Outcome.LOST),
        )
        .order_by("paid_at", "pk")
        .values_list(*CSV_COLUMNS)
    )
    for row in payments.iterator(chunk_size=2000):
        yield writer.writerow([value.isoformat() if hasattr(value, "isoformat") else value
                               for value in row])  # fmt: skip


def export_view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Payments paid between two dates (inclusive, in the newsroom's zone) as CSV: amounts
    (with what open and lost disputes hold), dates and references only; no email address or
    name leaves the admin this way."""
    form = ExportForm(request.GET or None)
    if not form.is_valid():
        context = {**admin.site.each_context(request), "title": "Export payments", "form": form}
        return render(request, "admin/donations/export.html", context)
    start = timezone.make_aware(datetime.combine(form.cleaned_data["start"], time.min))
    end = timezone.make_aware(datetime.combine(form.cleaned_data["end"], time.min))
    end += timedelta(days=1)
    response = StreamingHttpResponse(_rows(start, end), content_type="text/csv; charset=utf-8")
    name = f"donations-{form.cleaned_data['start']}-{form.cleaned_data['end']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
