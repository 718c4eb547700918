"""The donations app's emails. Each is claimed in the database before it is sent (a row's
`*_sent_at` moves from empty to now in one UPDATE), so a re-delivered task cannot send it twice;
a failed send releases the claim so the task's retry can try again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Model, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from donations.models import Donation, Donor, FailedPayment, RecurringDonation, Reminder
from donations.services.manage import manage_link_max_age, manage_url, past_due_link_max_age
from donations.services.reminders import reminder_opt_out_url
from donations.stripe_client import dashboard_url

logger = logging.getLogger(__name__)


def _send(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "POSTAL_ADDRESS": settings.NEWSROOM_POSTAL_ADDRESS,
        **context,
    }
    body = render_to_string(f"donations/email/{template}.txt", context)
    EmailMessage(subject=subject, body=body, to=[to]).send()


def _claimed_send(
    rows: QuerySet[Any], field: str, send: Callable[[], object], log_extra: dict[str, Any]
) -> bool:
    if rows.filter(**{field: None}).update(**{field: timezone.now()}) != 1:
        return False
    try:
        send()
    except Exception:
        rows.update(**{field: None})
        raise
    logger.info("email sent", extra={"kind": field, **log_extra})
    return True


def _one(model: type[Model], pk: int) -> QuerySet[Any]:
    return model._default_manager.filter(pk=pk)


def receipt_send(*, donation_id: int) -> bool:
    """The receipt for one paid payment; False when already sent or not (or no longer) due."""
    donation = Donation.objects.select_related("donor").filter(pk=donation_id).first()
    if donation is None or donation.donor is None or donation.status != Donation.Status.PAID:
        return False
    donor = donation.donor
    recurring = donation.frequency != "once"
    return _claimed_send(
        _one(Donation, donation_id),
        "receipt_sent_at",
        lambda: _send(
            to=donor.email,
            subject=f"Thank you for supporting {settings.SITE_NAME}",
            template="receipt",
            context={
                "donation": donation,
                "currency": donation.currency.upper(),
                "date": donation.paid_at or donation.created_at,
                "recurring": recurring,
                "manage_url": settings.SITE_URL + reverse("donations:manage"),
            },
        ),
        {"donation": donation_id},
    )


def past_due_notice_send(*, failure_id: int) -> bool:
    failure = FailedPayment.objects.select_related("recurring__donor").filter(pk=failure_id).first()
    if failure is None or failure.recurring.donor is None:
        return False
    if failure.recurring.status != RecurringDonation.Status.PAST_DUE:
        return False  # paid meanwhile, or cancelled: nothing to fix
    donor = failure.recurring.donor
    return _claimed_send(
        _one(FailedPayment, failure_id),
        "notice_sent_at",
        lambda: _send(
            to=donor.email,
            subject=f"Your gift to {settings.SITE_NAME} could not be collected",
            template="past_due",
            context={
                "recurring": failure.recurring,
                "manage_url": manage_url(donor=donor, past_due=True),
                "days": past_due_link_max_age() // 86400,
            },
        ),
        {"failed_payment": failure_id},
    )


def manage_link_send(*, donor_id: int) -> None:
    """Not claimed: every request for a link sends one (rate-limited at the view)."""
    donor = Donor.objects.get(pk=donor_id)
    _send(
        to=donor.email,
        subject=f"Manage your gift to {settings.SITE_NAME}",
        template="manage_link",
        context={"manage_url": manage_url(donor=donor), "hours": manage_link_max_age() // 3600},
    )
    logger.info("email sent", extra={"kind": "manage_link", "donor": donor_id})


def reminder_send(*, reminder_id: int) -> bool:
    reminder = Reminder.objects.filter(
        pk=reminder_id, opted_out_at=None, due_at__lte=timezone.now()
    ).first()
    if reminder is None or not reminder.email:
        return False
    sent = _claimed_send(
        _one(Reminder, reminder_id),
        "sent_at",
        lambda: _send(
            to=reminder.email,
            subject=f"A reminder from {settings.SITE_NAME}",
            template="reminder",
            context={
                "support_url": settings.SITE_URL + reverse("donations:support"),
                "opt_out_url": reminder_opt_out_url(reminder=reminder),
            },
        ),
        {"reminder": reminder_id},
    )
    if sent:  # the only reminder we send: its address is no longer needed
        _one(Reminder, reminder_id).update(email="")
    return sent


def dispute_notice_send(*, donation_id: int) -> bool:
    """Tell staff (STAFF_NOTIFICATION_EMAILS) a payment is disputed: Stripe gives days to answer."""
    recipients: list[str] = list(settings.STAFF_NOTIFICATION_EMAILS)
    donation = Donation.objects.filter(pk=donation_id, status=Donation.Status.DISPUTED).first()
    if donation is None or not recipients:
        return False
    admin_path = reverse("admin:donations_donation_change", args=[donation_id])
    return _claimed_send(
        _one(Donation, donation_id),
        "dispute_notice_sent_at",
        lambda: EmailMessage(
            subject=f"[{settings.SITE_NAME}] A payment is disputed: answer it in Stripe",
            body=render_to_string(
                "donations/email/dispute_staff.txt",
                {
                    "donation": donation,
                    "admin_url": settings.SITE_URL + admin_path,
                    "stripe_url": dashboard_url(donation.stripe_payment_intent_id or ""),
                },
            ),
            to=recipients,
        ).send(),
        {"donation": donation_id},
    )
