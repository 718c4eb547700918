"""Receipts and yearly statements: one HTML template each, shown as a printable page and
turned into a PDF by WeasyPrint (it needs Debian's pango; see the README).

A receipt is for one paid payment. A statement covers one calendar year (in `TIME_ZONE`) and
one currency: the paid payments, each less any partial refund, and their total; refunded,
disputed, failed and pending payments are not gifts for it. Both carry the newsroom's legal
name, postal address and registration number from settings.

The PDF renderer fetches nothing: its stylesheet is read from the app's static files and
every URL in the document is refused, so a document can never make a network request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from donations.models import Donation, Donor

STYLESHEET = "donations/documents.css"


@dataclass(frozen=True)
class StatementLine:
    donation: Donation
    net: Decimal


@dataclass(frozen=True)
class Statement:
    year: int
    currency: str
    lines: list[StatementLine]
    total: Decimal


def _issuer() -> dict[str, str]:
    return {
        "legal_name": settings.NEWSROOM_LEGAL_NAME,
        "postal_address": settings.NEWSROOM_POSTAL_ADDRESS,
        "registration_number": settings.NEWSROOM_REGISTRATION_NUMBER,
        "site_name": settings.SITE_NAME,
    }


def receipt_number(donation: Donation) -> str:
    when = donation.paid_at or donation.created_at
    return f"{timezone.localtime(when).year}-{donation.pk:06d}"


def receipt_context(donation: Donation) -> dict[str, Any]:
    donor = donation.donor
    return {
        **_issuer(),
        "donation": donation,
        "number": receipt_number(donation),
        "date": timezone.localtime(donation.paid_at or donation.created_at),
        "currency": donation.currency.upper(),
        "donor_name": donor.name if donor else "",
        "issued": timezone.localtime(),
    }


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone))


def statement_for(*, donor: Donor, year: int, currency: str) -> Statement:
    start, end = _year_bounds(year)
    payments = Donation.objects.filter(
        donor=donor,
        currency=currency,
        status=Donation.Status.PAID,
        paid_at__gte=start,
        paid_at__lt=end,
    ).order_by("paid_at", "pk")
    lines = [StatementLine(donation=d, net=d.amount - d.amount_refunded) for d in payments]
    total = sum((line.net for line in lines), Decimal("0.00"))
    return Statement(year=year, currency=currency, lines=lines, total=total)


def statement_periods(donor: Donor) -> list[tuple[int, str]]:
    """(year, currency) pairs with a paid gift, newest year first."""
    rows = Donation.objects.filter(donor=donor, status=Donation.Status.PAID).exclude(paid_at=None)
    periods = {
        (timezone.localtime(paid).year, cur)
        for paid, cur in rows.values_list("paid_at", "currency")
    }
    return sorted(periods, key=lambda period: (-period[0], period[1]))


def statement_context(*, donor: Donor, statement: Statement) -> dict[str, Any]:
    return {
        **_issuer(),
        "statement": statement,
        "currency": statement.currency.upper(),
        "donor_name": donor.name,
        "issued": timezone.localtime(),
    }


def html(template: str, context: dict[str, Any], *, for_pdf: bool = False) -> str:
    return render_to_string(f"donations/documents/{template}.html", {**context, "for_pdf": for_pdf})


@cache
def _stylesheet_text() -> str:
    found = finders.find(STYLESHEET)
    path = found[0] if isinstance(found, list) else found
    return Path(str(path)).read_text(encoding="utf-8")


def pdf(template: str, context: dict[str, Any]) -> bytes:
    """The document as PDF bytes (WeasyPrint, imported here: only PDFs need it)."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    refuse_all = URLFetcher(allowed_protocols=())
    document = weasyprint.HTML(
        string=html(template, context, for_pdf=True), url_fetcher=refuse_all, base_url=None
    )
    stylesheet = weasyprint.CSS(string=_stylesheet_text(), url_fetcher=refuse_all)
    data: bytes = document.write_pdf(stylesheets=[stylesheet])
    return data


def receipt_filename(donation: Donation) -> str:
    return f"receipt-{receipt_number(donation)}.pdf"


def statement_filename(statement: Statement) -> str:
    return f"statement-{statement.year}-{statement.currency}.pdf"
