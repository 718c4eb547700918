"""Non-trivial reads: who gives, and figures for staff (see `donations/figures.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from donations import frequencies
from donations.models import RecurringDonation

ACTIVE_RECURRING = (RecurringDonation.Status.ACTIVE, RecurringDonation.Status.PAST_DUE)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def active_recurring_donor_emails(emails: Iterable[str]) -> set[str]:
    """Those of `emails` (normalised, lower-cased) whose donor has an active recurring
    gift (a past-due gift still counts until Stripe gives up and cancels it). One query."""
    wanted = {normalise_email(email) for email in emails if email}
    if not wanted:
        return set()
    rows = RecurringDonation.objects.filter(
        donor__email__in=wanted,
        status__in=ACTIVE_RECURRING,
        frequency__in=frequencies.recurring_values(),
    ).values_list("donor__email", flat=True)
    return {email for email in rows if email}


def amount_presets() -> dict[str, dict[str, list[dict[str, str | bool]]]]:
    """Suggested amounts by frequency then currency, in staff's order (one query)."""
    from donations.models import AmountPreset

    presets: dict[str, dict[str, list[dict[str, str | bool]]]] = {}
    rows = [(p.frequency, p.currency, p.amount, p.is_default) for p in AmountPreset.objects.all()]
    for frequency, currency, amount, is_default in rows or _fallback_presets():
        presets.setdefault(frequency, {}).setdefault(currency, []).append(
            {"amount": f"{amount.normalize():f}", "default": is_default}
        )
    return presets


FALLBACK_PRESETS = {"once": (10, 25, 50), "monthly": (2, 5, 10), "annual": (50, 100, 250)}


def _fallback_presets() -> list[tuple[str, str, Decimal, bool]]:
    """Until staff set presets (a migration seeds these same ones), the banner still offers
    amounts; the middle one is selected."""
    return [
        (frequency, currency, Decimal(amount), index == 1)
        for frequency, amounts in FALLBACK_PRESETS.items()
        for currency in ("usd", "eur", "gbp")
        for index, amount in enumerate(amounts)
    ]
