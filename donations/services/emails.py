"""The donations app's emails and the tasks that send them.

Each email is claimed in the database before it is sent (a row's `*_sent_at` moves from empty
to now in one UPDATE), so a re-delivered task cannot send it twice; a transient failure
releases the claim and the task base retries; a permanent refusal keeps the claim (retrying
would only be refused again) and is logged. Callers queue them with `.delay_on_commit(id)`.
"""

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

from donations import frequencies
from donations.links import manage_url, reminder_stop_url
from donations.models import (
    Donation,
    Donor,
    FailedPayment,
    RecurringChange,
    RecurringDonation,
    Reminder,
)
from donations.selectors import address_gave_since
from donations.stripe_client import dashboard_url
from newsroom import mail
from newsroom.task_base import task

logger = logging.getLogger(__name__)


def _send(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    attachment: tuple[str, bytes] | None = None,
) -> None:
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "POSTAL_ADDRESS": settings.NEWSROOM_POSTAL_ADDRESS,
        **context,
    }
    body = render_to_string(f"donations/email/{template}.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[to])
    if attachment is not None:
        message.attach(attachment[0], attachment[1], "application/pdf")
    mail.send(message)


def _claimed_send(
    rows: QuerySet[Any], field: str, send: Callable[[], object], log_extra: dict[str, Any]
) -> bool:
    if rows.filter(**{field: None}).update(**{field: timezone.now()}) != 1:
        return False
    try:
        send()
    except mail.MailRefused as error:
        logger.warning("email refused", extra={"kind": field, **log_extra, **error.extra})
        return False
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
    address = donation.donor.email
    if not address:
        return False  # erased
    recurring = frequencies.get(donation.frequency).is_recurring
    return _claimed_send(
        _one(Donation, donation_id),
        "receipt_sent_at",
        lambda: _send(
            to=address,
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
    if failure is None or failure.recurring.donor is None or not failure.recurring.donor.email:
        return False
    address = failure.recurring.donor.email
    if failure.recurring.status != RecurringDonation.Status.PAST_DUE:
        return False  # paid meanwhile, or cancelled: nothing to fix
    donor = failure.recurring.donor
    return _claimed_send(
        _one(FailedPayment, failure_id),
        "notice_sent_at",
        lambda: _send(
            to=address,
            subject=f"Your gift to {settings.SITE_NAME} could not be collected",
            template="past_due",
            context={
                "recurring": failure.recurring,
                "manage_url": manage_url(donor_id=donor.pk, past_due=True),
                "days": settings.DONATIONS_PAST_DUE_LINK_MAX_AGE // 86400,
            },
        ),
        {"failed_payment": failure_id},
    )


def manage_link_send(*, donor_id: int) -> None:
    """Not claimed: every request for a link sends one (rate-limited at the view)."""
    donor = Donor.objects.filter(pk=donor_id).first()
    if donor is None or not donor.email:
        return
    try:
        _send(
            to=donor.email,
            subject=f"Manage your gift to {settings.SITE_NAME}",
            template="manage_link",
            context={
                "manage_url": manage_url(donor_id=donor.pk),
                "hours": settings.DONATIONS_MANAGE_LINK_MAX_AGE // 3600,
            },
        )
    except mail.MailRefused as error:
        logger.warning(
            "email refused", extra={"kind": "manage_link", "donor": donor_id, **error.extra}
        )
        return
    logger.info("email sent", extra={"kind": "manage_link", "donor": donor_id})


def reminder_send(*, reminder_id: int) -> bool:
    """The reminder, unless the address gave after asking for it: then it is skipped (and its
    address forgotten) instead."""
    reminder = Reminder.objects.filter(
        pk=reminder_id, opted_out_at=None, skipped_at=None, due_at__lte=timezone.now()
    ).first()
    if reminder is None or not reminder.email:
        return False
    if address_gave_since(reminder.email, reminder.asked_at):
        skipped = _one(Reminder, reminder_id).filter(sent_at=None, skipped_at=None)
        if skipped.update(skipped_at=timezone.now(), email=""):
            logger.info("reminder skipped: given since", extra={"reminder": reminder_id})
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
                "opt_out_url": reminder_stop_url(reminder_id=reminder.pk),
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
        lambda: mail.send(
            EmailMessage(
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
            )
        ),
        {"donation": donation_id},
    )


def recurring_change_notice_send(*, change_id: int) -> bool:
    """Confirm a change of a recurring gift to its donor (once)."""
    change = RecurringChange.objects.select_related("recurring__donor").filter(pk=change_id).first()
    donor = change.recurring.donor if change is not None else None
    if change is None or donor is None or not donor.email:
        return False
    address = donor.email
    return _claimed_send(
        _one(RecurringChange, change_id),
        "notice_sent_at",
        lambda: _send(
            to=address,
            subject=f"Your gift to {settings.SITE_NAME}: {change.get_kind_display().lower()}",
            template="recurring_change",
            context={
                "change": change,
                "new_adverb": frequencies.get(change.new_frequency).adverb,
                "recurring": change.recurring,
                "currency": change.currency.upper(),
                "manage_url": settings.SITE_URL + reverse("donations:manage"),
            },
        ),
        {"recurring_change": change_id},
    )


def _send_on_request(kind: str, log_extra: dict[str, Any], send: Callable[[], object]) -> bool:
    """A mail staff asked for: sent each time they ask (not claimed); a refusal is logged."""
    try:
        send()
    except mail.MailRefused as error:
        logger.warning("email refused", extra={"kind": kind, **log_extra, **error.extra})
        return False
    logger.info("email sent", extra={"kind": kind, **log_extra})
    return True


def receipt_resend(*, donation_id: int) -> bool:
    """The receipt of a paid payment again, with its PDF attached (staff's resend)."""
    from donations import documents

    donation = Donation.objects.select_related("donor").filter(pk=donation_id).first()
    if donation is None or donation.status != Donation.Status.PAID:
        return False
    if donation.donor is None or not donation.donor.email:
        return False
    address = donation.donor.email
    context = documents.receipt_context(donation)
    attachment = (documents.receipt_filename(donation), documents.pdf("receipt", context))
    return _send_on_request(
        "receipt_resent",
        {"donation": donation_id},
        lambda: _send(
            to=address,
            subject=f"Your receipt from {settings.SITE_NAME}",
            template="receipt_resent",
            context={**context, "currency": donation.currency.upper()},
            attachment=attachment,
        ),
    )


def statement_send(*, donor_id: int, year: int, currency: str) -> bool:
    """A donor's yearly statement for one currency, as a PDF attachment (staff's send)."""
    from donations import documents

    donor = Donor.objects.filter(pk=donor_id).first()
    if donor is None or not donor.email:
        return False
    address = donor.email
    statement = documents.statement_for(donor=donor, year=year, currency=currency)
    context = documents.statement_context(donor=donor, statement=statement)
    attachment = (documents.statement_filename(statement), documents.pdf("statement", context))
    return _send_on_request(
        "statement",
        {"donor": donor_id, "year": year, "currency": currency},
        lambda: _send(
            to=address,
            subject=f"Your {year} statement of gifts to {settings.SITE_NAME}",
            template="statement",
            context=context,
            attachment=attachment,
        ),
    )


@task(name="donations.tasks.send_receipt")
def send_receipt(donation_id: int) -> bool:
    return receipt_send(donation_id=donation_id)


@task(name="donations.tasks.send_past_due_notice")
def send_past_due_notice(failure_id: int) -> bool:
    return past_due_notice_send(failure_id=failure_id)


@task(name="donations.tasks.send_manage_link")
def send_manage_link(donor_id: int) -> None:
    manage_link_send(donor_id=donor_id)


@task(name="donations.tasks.send_reminder")
def send_reminder(reminder_id: int) -> bool:
    return reminder_send(reminder_id=reminder_id)


@task(name="donations.tasks.send_dispute_notice")
def send_dispute_notice(donation_id: int) -> bool:
    return dispute_notice_send(donation_id=donation_id)


@task(name="donations.tasks.send_recurring_change_notice")
def send_recurring_change_notice(change_id: int) -> bool:
    return recurring_change_notice_send(change_id=change_id)


@task(name="donations.tasks.resend_receipt")
def resend_receipt(donation_id: int) -> bool:
    return receipt_resend(donation_id=donation_id)


@task(name="donations.tasks.send_statement")
def send_statement(donor_id: int, year: int, currency: str) -> bool:
    return statement_send(donor_id=donor_id, year=year, currency=currency)
